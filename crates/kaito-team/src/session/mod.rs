//! Team mode on one device, with no UI in it: who is signed in, the shared-token
//! list merged with the offline cache, codes kept between fetches, each first
//! showing of a code logged as a view, the outbox sync and the live SMS inbox. The
//! app adapts it to windows, the clipboard and notifications.

mod codes;
mod inbox;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use kaito_api::{LoginRequest, SharedTokenView};
use kaito_vault::{SecretSlot, Vault, VaultError};

pub use codes::CodeNow;
use codes::{FetchedCodes, ViewLog};
use inbox::Inbox;
pub use inbox::{InboxEvents, InboxState};

use crate::TeamClient;
use crate::error::TeamError;
use crate::link::{JoinLink, PasswordLink, TeamLink};
use crate::outbox::{Surface, TeamEventKind, record_event};
use crate::retry::retry_delay;
use crate::shared::cached_tokens;
use crate::sign_in::{PasswordStep, PendingSignIn};

/// A failure as the UI shows it, kept to be shown again (a [`TeamError`] is not
/// `Clone`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: String,
    pub message: String,
}

impl From<&TeamError> for Problem {
    fn from(error: &TeamError) -> Self {
        Self {
            code: error.code(),
            message: error.to_string(),
        }
    }
}

/// The sign-in as Settings shows it.
#[derive(Debug, Clone)]
pub struct Status {
    pub link: Option<TeamLink>,
    /// Views and copies not yet sent to the team's log.
    pub pending_events: u64,
    pub last_synced_at: Option<SystemTime>,
}

/// A shared token with its code now.
#[derive(Debug, Clone)]
pub struct SharedCode {
    pub token: SharedTokenView,
    /// Its seed is kept (sealed) on this device: codes are computed here, offline too.
    pub on_device: bool,
    pub code: Option<CodeNow>,
    pub code_error: Option<Problem>,
}

/// The team part of the token list; `None` from [`Session::tokens`] when signed out.
#[derive(Debug, Clone)]
pub struct SharedList {
    pub team_name: String,
    pub tokens: Vec<SharedCode>,
    /// The list could not be refreshed: it is the one last fetched, and this says why.
    pub stale: Option<Problem>,
}

/// The team state of one app profile.
pub struct Session {
    /// The keychain slot of the sign-in; `None` without a keychain.
    slot: Option<Arc<dyn SecretSlot>>,
    /// Held only to clone the `Arc` out, never across an await.
    client: RwLock<Option<Arc<TeamClient>>>,
    codes: Mutex<HashMap<String, FetchedCodes>>,
    /// Wakes the outbox sync (a copy just happened, or a sign-in).
    sync_now: tokio::sync::Notify,
    inbox: Mutex<Inbox>,
    viewed: Mutex<ViewLog>,
    /// Bumped at each sign-in and sign-out, so the inbox stream follows the account.
    sign_ins: tokio::sync::watch::Sender<u64>,
    /// The app is locked: no team code, seed, text or admin call until the unlock.
    locked: tokio::sync::watch::Sender<bool>,
    /// A sign-in whose password was right, waiting for its second factor.
    pending_sign_in: Mutex<Option<Arc<PendingSignIn>>>,
    /// Ends an SSO sign-in waiting for the browser.
    sso_cancel: tokio::sync::Notify,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

/// A poisoned lock only means another thread panicked mid-update; the data here
/// (caches) stays usable.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How this device appears in the team's device list.
#[must_use]
pub fn device_name() -> String {
    let host = gethostname::gethostname()
        .to_string_lossy()
        .trim()
        .to_owned();
    if host.is_empty() {
        "Kaito on this computer".to_owned()
    } else {
        format!("Kaito on {host}")
    }
}

impl Session {
    /// The profile's keychain slot, and the sign-in kept from an earlier run.
    pub async fn open(vault: Option<&Vault>, slot: Option<Arc<dyn SecretSlot>>) -> Self {
        let client = match (vault, &slot) {
            (Some(vault), Some(slot)) => match TeamClient::resume(vault, slot.clone()).await {
                Ok(client) => client.map(Arc::new),
                Err(error) => {
                    tracing::warn!(code = %error.code(), "the team sign-in could not be read");
                    None
                }
            },
            _ => None,
        };
        Self {
            slot,
            client: RwLock::new(client),
            codes: Mutex::new(HashMap::new()),
            sync_now: tokio::sync::Notify::new(),
            inbox: Mutex::new(Inbox::default()),
            viewed: Mutex::new(ViewLog::default()),
            sign_ins: tokio::sync::watch::Sender::new(0),
            locked: tokio::sync::watch::Sender::new(vault.is_some_and(Vault::is_locked)),
            pending_sign_in: Mutex::new(None),
            sso_cancel: tokio::sync::Notify::new(),
        }
    }

    /// The app locked or unlocked. Locked, team mode does nothing for anyone: the
    /// access token in memory is dropped (the refresh token and device key are
    /// sealed with the vault key, so no new one can be had), fetched codes and
    /// received texts are forgotten, and the inbox stream closes until the unlock.
    pub async fn set_locked(&self, locked: bool) {
        self.locked.send_replace(locked);
        if locked {
            if let Some(client) = self.client() {
                client.forget_access().await;
            }
            lock(&self.codes).clear();
            lock(&self.pending_sign_in).take();
            // Codes shown again after the unlock are views again.
            lock(&self.viewed).clear();
            self.clear_inbox();
        }
    }

    #[must_use]
    pub fn is_locked(&self) -> bool {
        *self.locked.borrow()
    }

    /// [`VaultError::Locked`] while the app (or `vault`) is locked.
    fn check_unlocked(&self, vault: Option<&Vault>) -> Result<(), TeamError> {
        if self.is_locked() || vault.is_some_and(Vault::is_locked) {
            Err(TeamError::Vault(VaultError::Locked))
        } else {
            Ok(())
        }
    }

    fn client(&self) -> Option<Arc<TeamClient>> {
        self.client
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_client(&self, client: Option<Arc<TeamClient>>) {
        *self.client.write().unwrap_or_else(PoisonError::into_inner) = client;
    }

    /// The team client, or [`TeamError::NotLinked`] (or `vault.locked` while the
    /// app is locked).
    pub fn signed_in(&self) -> Result<Arc<TeamClient>, TeamError> {
        self.check_unlocked(None)?;
        self.client().ok_or(TeamError::NotLinked)
    }

    /// Forgets what belonged to the previous account and tells the tasks.
    fn account_changed(&self) {
        lock(&self.codes).clear();
        lock(&self.viewed).clear();
        self.clear_inbox();
        self.sign_ins.send_modify(|count| *count += 1);
    }

    pub async fn status(&self, vault: &Vault) -> Result<Status, TeamError> {
        let (pending_events, last_synced_at) = vault.team_outbox_state().await?;
        Ok(Status {
            link: self.client().map(|client| client.link().clone()),
            pending_events,
            last_synced_at,
        })
    }

    /// Signs this device in with email and password.
    pub async fn sign_in(
        &self,
        vault: &Vault,
        server_url: &str,
        login: &LoginRequest,
    ) -> Result<Status, TeamError> {
        lock(&self.pending_sign_in).take();
        let step = TeamClient::sign_in_steps(
            vault,
            self.keychain_slot()?,
            server_url,
            login,
            &device_name(),
        )
        .await?;
        match step {
            PasswordStep::SignedIn(client) => self.adopt(vault, *client).await,
            PasswordStep::SecondFactor(pending) => {
                let must_set_up = pending.must_set_up;
                *lock(&self.pending_sign_in) = Some(Arc::new(pending));
                Err(if must_set_up {
                    TeamError::SecondFactorSetupRequired
                } else {
                    TeamError::SecondFactorRequired
                })
            }
        }
    }

    /// Finishes the sign-in [`Self::sign_in`] left waiting for a second factor.
    /// A wrong code keeps it waiting; an expired or finished challenge ends it
    /// (sign in with the password again).
    pub async fn answer_second_factor(
        &self,
        vault: &Vault,
        code: &str,
    ) -> Result<Status, TeamError> {
        let pending = lock(&self.pending_sign_in)
            .clone()
            .ok_or(TeamError::NoPendingSignIn)?;
        let answered = TeamClient::answer_second_factor(
            vault,
            self.keychain_slot()?,
            &pending,
            code,
            &device_name(),
        )
        .await;
        match answered {
            Ok(client) => {
                lock(&self.pending_sign_in).take();
                self.adopt(vault, client).await
            }
            Err(error) => {
                if matches!(&error, TeamError::Refused { code, .. } if code == "auth.mfa_challenge_invalid" || code == "auth.rate_limited")
                {
                    lock(&self.pending_sign_in).take();
                }
                Err(error)
            }
        }
    }

    /// The authenticator secret for the sign-in [`Self::sign_in`] left waiting
    /// for a second factor to be set up (`team.second_factor_setup_required`).
    pub async fn begin_required_setup(&self) -> Result<kaito_api::TotpEnrolment, TeamError> {
        let pending = lock(&self.pending_sign_in)
            .clone()
            .filter(|pending| pending.must_set_up)
            .ok_or(TeamError::NoPendingSignIn)?;
        TeamClient::begin_required_setup(&pending).await
    }

    /// Finishes that sign-in with the new authenticator's first code; the
    /// recovery codes come back to be shown once.
    pub async fn finish_required_setup(
        &self,
        vault: &Vault,
        code: &str,
    ) -> Result<(Status, kaito_api::RecoveryCodes), TeamError> {
        let pending = lock(&self.pending_sign_in)
            .clone()
            .filter(|pending| pending.must_set_up)
            .ok_or(TeamError::NoPendingSignIn)?;
        let (client, codes) = TeamClient::finish_required_setup(
            vault,
            self.keychain_slot()?,
            &pending,
            code,
            &device_name(),
        )
        .await
        .inspect_err(|error| {
            if matches!(error, TeamError::Refused { code, .. } if code == "auth.mfa_challenge_invalid" || code == "auth.rate_limited")
            {
                lock(&self.pending_sign_in).take();
            }
        })?;
        lock(&self.pending_sign_in).take();
        Ok((self.adopt(vault, client).await?, codes))
    }

    /// Signs in through the team's identity provider in the system browser
    /// ([`TeamClient::sign_in_with_sso`]); a sign-in still waiting for the browser
    /// is cancelled first.
    pub async fn sign_in_with_sso(
        &self,
        vault: &Vault,
        (server_url, email): (&str, &str),
        open_browser: &(dyn Fn(&str) -> Result<(), String> + Sync),
    ) -> Result<Status, TeamError> {
        self.cancel_sso();
        lock(&self.pending_sign_in).take();
        let client = TeamClient::sign_in_with_sso(
            vault,
            self.keychain_slot()?,
            (server_url, email),
            &device_name(),
            open_browser,
            &self.sso_cancel,
        )
        .await?;
        self.adopt(vault, client).await
    }

    /// Ends the SSO sign-in waiting for the browser, if one is.
    pub fn cancel_sso(&self) {
        self.sso_cancel.notify_waiters();
    }

    /// Joins a team with a `kaito://join` invite link: name and first password for
    /// the new member, then signed in like [`Self::sign_in`].
    pub async fn join(
        &self,
        vault: &Vault,
        link: &str,
        name: &str,
        password: &str,
    ) -> Result<Status, TeamError> {
        let link = JoinLink::parse(link)?;
        let client = TeamClient::join(
            vault,
            self.keychain_slot()?,
            &link,
            name,
            password,
            &device_name(),
        )
        .await?;
        self.adopt(vault, client).await
    }

    /// Chooses a new password with a `kaito://set-password` link an admin made,
    /// then signs in like [`Self::sign_in`].
    pub async fn set_password_with_link(
        &self,
        vault: &Vault,
        link: &str,
        password: &str,
    ) -> Result<Status, TeamError> {
        let link = PasswordLink::parse(link)?;
        let client = TeamClient::set_password_with_link(
            vault,
            self.keychain_slot()?,
            &link,
            password,
            &device_name(),
        )
        .await?;
        self.adopt(vault, client).await
    }

    fn keychain_slot(&self) -> Result<Arc<dyn SecretSlot>, TeamError> {
        self.slot.clone().ok_or(TeamError::NoKeychain)
    }

    /// Makes a fresh sign-in the device's: the previous account's state goes, the
    /// outbox sync and the inbox follow the new one.
    async fn adopt(&self, vault: &Vault, client: TeamClient) -> Result<Status, TeamError> {
        self.set_client(Some(Arc::new(client)));
        self.account_changed();
        self.sync_now.notify_one();
        self.status(vault).await
    }

    /// Signs out; refused while events are unsent unless `discard_unsent`.
    pub async fn sign_out(&self, vault: &Vault, discard_unsent: bool) -> Result<Status, TeamError> {
        if let Some(client) = self.client() {
            // Still signed in, as far as this device knows, until the sign-out worked.
            client.sign_out(vault, discard_unsent).await?;
            self.set_client(None);
        }
        self.account_changed();
        self.status(vault).await
    }

    /// The shared tokens with their current codes (code and seed grants alike: the
    /// server computes them, or this device for a kept seed), or the last list when
    /// the server is out of reach. Each code shown on `surface` for the first time
    /// is recorded as a view.
    pub async fn tokens(
        &self,
        vault: &Vault,
        surface: Surface,
    ) -> Result<Option<SharedList>, TeamError> {
        let Some(client) = self.client() else {
            return Ok(None);
        };
        // Locked, nothing is fetched, shown or recorded as viewed.
        self.check_unlocked(Some(vault))?;
        let (listed, stale) = match client.shared_tokens(vault).await {
            Ok(tokens) => (tokens, None),
            Err(error) => {
                let cached = cached_tokens(vault)
                    .await?
                    .map(|(tokens, _)| tokens)
                    .unwrap_or_default();
                (cached, Some(Problem::from(&error)))
            }
        };
        let now = Instant::now();
        let kept: HashSet<String> = match vault.team_seed_ids().await {
            Ok(ids) => ids.into_iter().map(|(id, _)| id).collect(),
            Err(VaultError::Locked) => HashSet::new(),
            Err(error) => return Err(error.into()),
        };
        let mut tokens = Vec::with_capacity(listed.len());
        for token in listed {
            let on_device = kept.contains(&token.token_id);
            let (code, code_error) = if on_device {
                match kept_code(vault, &token.token_id).await {
                    Ok(code) => (code, None),
                    Err(error) => (None, Some(Problem::from(&error))),
                }
            } else if token.access.is_some() {
                let (code, error) = self.codes_at(&client, &token.token_id, now).await;
                (code, error.as_ref().map(Problem::from))
            } else {
                (None, None)
            };
            if let Some(shown) = &code {
                self.record_view(vault, &token.token_id, &shown.current, surface)
                    .await?;
            }
            tokens.push(SharedCode {
                token,
                on_device,
                code,
                code_error,
            });
        }
        Ok(Some(SharedList {
            team_name: client.link().team_name.clone(),
            tokens,
            stale,
        }))
    }

    /// Records the first showing of `code` on `surface` for the team's log.
    async fn record_view(
        &self,
        vault: &Vault,
        token_id: &str,
        code: &str,
        surface: Surface,
    ) -> Result<(), TeamError> {
        if !lock(&self.viewed).first_showing(token_id, code, surface.as_str()) {
            return Ok(());
        }
        record_event(vault, token_id, TeamEventKind::CodeViewed, surface).await?;
        self.sync_now.notify_one();
        Ok(())
    }

    /// A token's codes now: from the last fetch while it covers now, fetched again
    /// shortly before it runs out.
    async fn codes_at(
        &self,
        client: &TeamClient,
        token_id: &str,
        now: Instant,
    ) -> (Option<CodeNow>, Option<TeamError>) {
        let needs_fetch = lock(&self.codes)
            .get(token_id)
            .is_none_or(|fetched| fetched.stale(now));
        let mut error = None;
        if needs_fetch {
            let fetched = match token_id.parse::<kaito_api::ids::TokenId>() {
                Ok(token_id) => client.codes(&token_id).await,
                Err(malformed) => Err(malformed.into()),
            };
            match fetched {
                Ok(codes) => {
                    lock(&self.codes).insert(
                        token_id.to_owned(),
                        FetchedCodes {
                            codes,
                            at: Instant::now(),
                        },
                    );
                }
                Err(failure) => error = Some(failure),
            }
        }
        let code = lock(&self.codes)
            .get(token_id)
            .and_then(|fetched| fetched.at(now));
        let error = if code.is_some() { None } else { error };
        (code, error)
    }

    /// Copies a shared token's current code with `place` (the clipboard) and, once
    /// placed, records the copy for the team's log.
    pub async fn copy_code<E: From<TeamError>>(
        &self,
        vault: &Vault,
        token_id: &str,
        surface: Surface,
        place: impl FnOnce(&CodeNow) -> Result<(), E>,
    ) -> Result<CodeNow, E> {
        self.check_unlocked(Some(vault))?;
        let client = self.signed_in()?;
        let code = if let Some(code) = kept_code(vault, token_id).await? {
            code
        } else {
            let (code, error) = self.codes_at(&client, token_id, Instant::now()).await;
            code.ok_or_else(|| error.unwrap_or(TeamError::NoCode))?
        };
        place(&code)?;
        record_event(vault, token_id, TeamEventKind::CodeCopied, surface).await?;
        self.sync_now.notify_one();
        Ok(code)
    }

    /// Keeps a full-seed token's seed on this device (sealed in the vault).
    pub async fn keep_seed(&self, vault: &Vault, token_id: &str) -> Result<(), TeamError> {
        self.check_unlocked(Some(vault))?;
        self.signed_in()?.keep_seed(vault, &token_id.parse()?).await
    }

    /// Sends the outbox whenever woken and at least every minute; after a failure
    /// waits with full jitter (or as long as the server asked).
    pub async fn sync_forever(self: Arc<Self>, vault: Arc<Vault>) {
        let mut failures = 0u32;
        let mut wait = Duration::from_secs(60);
        loop {
            let _ = tokio::time::timeout(wait, self.sync_now.notified()).await;
            let Some(client) = self.client() else {
                wait = Duration::from_secs(60);
                continue;
            };
            match client.sync_outbox(&vault).await {
                Ok(_) => {
                    failures = 0;
                    wait = Duration::from_secs(60);
                }
                Err(error) => {
                    let retry_after = match &error {
                        TeamError::RetryLater { after } => Some(*after),
                        _ => None,
                    };
                    wait = retry_delay(failures, retry_after);
                    failures = failures.saturating_add(1);
                    tracing::info!(code = %error.code(), wait_ms = wait.as_millis(), "team sync will retry");
                }
            }
        }
    }
}

/// The codes now of a token whose seed this device keeps, computed here; `None`
/// when it keeps none.
async fn kept_code(vault: &Vault, token_id: &str) -> Result<Option<CodeNow>, TeamError> {
    let Some(uri) = vault.team_seed(token_id).await? else {
        return Ok(None);
    };
    let token =
        kaito_core::uri::parse(&uri).map_err(|error| TeamError::BadSeed(error.to_string()))?;
    let generator = kaito_core::otp::CodeGenerator::new(&token);
    let unix_secs = kaito_core::clock::unix_secs(SystemTime::now());
    Ok(Some(match generator.window(unix_secs) {
        Some(window) => CodeNow {
            current: window.current.to_string(),
            next: Some(window.next.to_string()),
            remaining_secs: Some(window.remaining_secs),
            period: Some(window.period),
        },
        None => CodeNow {
            current: generator.code_at(unix_secs).to_string(),
            next: None,
            remaining_secs: None,
            period: None,
        },
    }))
}
