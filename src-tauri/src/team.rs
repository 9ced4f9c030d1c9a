//! Team mode in the app: adapts kaito-vault's team client to commands, keeps the
//! server's codes between periods (so a countdown never shows a blank), runs the
//! background sync of the team audit outbox, and keeps the shared SMS inbox live.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kaito_api::{CodesView, GrantMode, SmsMessageView};
use kaito_vault::team::{TeamClient, TeamError, TeamEventKind, retry_delay};
use kaito_vault::{KeyNamespace, KeychainKeyStore, SecretSlot, Vault};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};
use tauri_plugin_notification::NotificationExt;

use crate::IpcError;
use crate::state::lock;
use crate::views::CodeView;

impl From<TeamError> for IpcError {
    fn from(error: TeamError) -> Self {
        Self::new(&error.code(), error.to_string())
    }
}

/// The team sign-in as Settings shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TeamStatusView {
    pub linked: bool,
    pub server_url: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub team_name: Option<String>,
    /// Views and copies not yet sent to the team's log.
    pub pending_events: u32,
    /// Unix milliseconds of the last successful send.
    pub last_synced_at_ms: Option<f64>,
}

/// A shared token as the list shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TeamTokenView {
    pub token_id: String,
    pub issuer: String,
    pub account: String,
    /// "code" (codes from the server only), "seed", or "none" (an admin who manages
    /// it without a grant).
    pub access: String,
    /// Its seed is kept (sealed) on this device: codes are computed here, offline
    /// too.
    pub on_device: bool,
    pub code: Option<CodeView>,
    pub code_error: Option<IpcError>,
}

/// The team part of the token list.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TeamTokensView {
    pub linked: bool,
    pub team_name: Option<String>,
    pub tokens: Vec<TeamTokenView>,
    /// The list could not be refreshed: it is the one last fetched, and this says why.
    pub stale: Option<IpcError>,
}

/// Tells the window the inbox changed (a message, or the connection's state).
pub const INBOX_EVENT: &str = "team-inbox";
/// Messages the inbox keeps in memory, newest kept.
const INBOX_KEPT: usize = 200;
/// Messages older than this when they reach a starting app are history: no
/// notification for them.
const FRESH_FOR_MS: i64 = 60_000;

/// A text message of the shared inbox as the window shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SmsView {
    #[ts(type = "number")]
    pub seq: i64,
    pub label: String,
    pub phone_number: String,
    pub from: String,
    pub body: String,
    /// The one-time code the server found in the body, digits only.
    pub code: Option<String>,
    #[ts(type = "number")]
    pub received_at_ms: i64,
}

/// The shared inbox: newest message first.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TeamInboxView {
    pub linked: bool,
    /// The live stream is open: new messages appear as they arrive.
    pub live: bool,
    /// Why the stream is not open, while it is retried.
    pub problem: Option<IpcError>,
    pub messages: Vec<SmsView>,
}

/// The inbox as received so far on this run.
#[derive(Default)]
struct Inbox {
    messages: VecDeque<SmsMessageView>,
    last_seq: i64,
    live: bool,
    problem: Option<IpcError>,
}

impl Inbox {
    fn push(&mut self, message: SmsMessageView) {
        self.last_seq = self.last_seq.max(message.seq);
        self.messages.push_back(message);
        while self.messages.len() > INBOX_KEPT {
            self.messages.pop_front();
        }
    }
}

/// Codes as the server gave them, and when (to know which is current now).
struct FetchedCodes {
    codes: CodesView,
    at: Instant,
}

impl FetchedCodes {
    /// The codes at `now`: the fetched window, or, once it ended, its `next` code for
    /// one more period. `None` when both are used up.
    fn at(&self, now: Instant) -> Option<CodeView> {
        let elapsed = u32::try_from(now.duration_since(self.at).as_secs()).unwrap_or(u32::MAX);
        let remaining = self.codes.remaining_secs;
        if elapsed < remaining {
            return Some(CodeView {
                current: self.codes.current.clone(),
                next: Some(self.codes.next.clone()),
                remaining_secs: Some(remaining - elapsed),
                period: Some(self.codes.period),
            });
        }
        let into_next = elapsed - remaining;
        (into_next < self.codes.period).then(|| CodeView {
            current: self.codes.next.clone(),
            next: None,
            remaining_secs: Some(self.codes.period - into_next),
            period: Some(self.codes.period),
        })
    }

    /// Fetch again once the fetched window is nearly over, so `next` is ready.
    fn stale(&self, now: Instant) -> bool {
        now.duration_since(self.at).as_secs() + 3 >= u64::from(self.codes.remaining_secs)
    }
}

/// The app's team state, managed by Tauri.
pub struct TeamMode {
    /// The keychain slot of the sign-in; `None` without a keychain.
    slot: Option<Arc<dyn SecretSlot>>,
    client: tokio::sync::RwLock<Option<Arc<TeamClient>>>,
    codes: Mutex<HashMap<String, FetchedCodes>>,
    /// Wakes the outbox sync (a copy just happened, or a sign-in).
    sync_now: tokio::sync::Notify,
    inbox: Mutex<Inbox>,
    /// The codes already recorded as viewed, by token, code and surface: a list
    /// refreshed within a period is not a new view.
    viewed: Mutex<HashSet<(String, String, String)>>,
    /// Bumped at each sign-in and sign-out, so the inbox stream follows the account.
    sign_ins: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for TeamMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamMode").finish_non_exhaustive()
    }
}

impl TeamMode {
    /// The profile's slot, and the sign-in kept from an earlier run.
    pub async fn open(vault: Option<&Vault>, keychain_profile: &str) -> Self {
        let slot: Option<Arc<dyn SecretSlot>> =
            KeychainKeyStore::native(KeyNamespace::current(keychain_profile))
                .ok()
                .map(|keys| Arc::new(keys.secret("team")) as Arc<dyn SecretSlot>);
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
            client: tokio::sync::RwLock::new(client),
            codes: Mutex::new(HashMap::new()),
            sync_now: tokio::sync::Notify::new(),
            inbox: Mutex::new(Inbox::default()),
            viewed: Mutex::new(HashSet::new()),
            sign_ins: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Forgets what belonged to the previous account and tells the tasks.
    fn account_changed(&self) {
        lock(&self.codes).clear();
        lock(&self.viewed).clear();
        *lock(&self.inbox) = Inbox::default();
        self.sign_ins.send_modify(|count| *count += 1);
    }

    async fn client(&self) -> Option<Arc<TeamClient>> {
        self.client.read().await.clone()
    }

    /// The team client, or the error a signed-out device gets.
    pub async fn signed_in(&self) -> Result<Arc<TeamClient>, IpcError> {
        self.client().await.ok_or_else(|| {
            IpcError::new("team.not_linked", "This device is not signed in to a team.")
        })
    }

    pub async fn status(&self, vault: &Vault) -> Result<TeamStatusView, IpcError> {
        let (pending, last_sent) = vault.team_outbox_state().await?;
        let client = self.client().await;
        let link = client.as_ref().map(|client| client.link());
        Ok(TeamStatusView {
            linked: link.is_some(),
            server_url: link.map(|link| link.server_url.clone()),
            email: link.map(|link| link.email.clone()),
            name: link.map(|link| link.name.clone()),
            role: link.map(|link| link.role.as_str().to_owned()),
            team_name: link.map(|link| link.team_name.clone()),
            pending_events: u32::try_from(pending).unwrap_or(u32::MAX),
            #[allow(clippy::cast_precision_loss)]
            last_synced_at_ms: last_sent.map(|at| kaito_vault::clock::unix_millis(at) as f64),
        })
    }

    pub async fn sign_in(
        &self,
        vault: &Vault,
        (server_url, email, password): (&str, &str, &str),
    ) -> Result<TeamStatusView, IpcError> {
        let client = TeamClient::sign_in(
            vault,
            self.keychain_slot()?,
            server_url,
            (email, password),
            &device_name(),
        )
        .await?;
        self.adopt(vault, client).await
    }

    /// Joins a team with a `kaito://join` invite link: name and first password for
    /// the new member, then signed in like [`Self::sign_in`].
    pub async fn join(
        &self,
        vault: &Vault,
        link: &str,
        (name, password): (&str, &str),
    ) -> Result<TeamStatusView, IpcError> {
        let link = kaito_vault::team::JoinLink::parse(link)?;
        let client = TeamClient::join(
            vault,
            self.keychain_slot()?,
            &link,
            (name, password),
            &device_name(),
        )
        .await?;
        self.adopt(vault, client).await
    }

    /// Where a sign-in is kept; none without a keychain.
    fn keychain_slot(&self) -> Result<Arc<dyn SecretSlot>, IpcError> {
        self.slot.clone().ok_or_else(|| {
            IpcError::new(
                "vault.keychain_unavailable",
                "Team mode needs the system keychain, which is not available.",
            )
        })
    }

    /// Makes a fresh sign-in the device's: the previous account's state goes, the
    /// outbox sync and the inbox follow the new one.
    async fn adopt(&self, vault: &Vault, client: TeamClient) -> Result<TeamStatusView, IpcError> {
        *self.client.write().await = Some(Arc::new(client));
        self.account_changed();
        self.sync_now.notify_one();
        self.status(vault).await
    }

    pub async fn sign_out(&self, vault: &Vault) -> Result<TeamStatusView, IpcError> {
        let client = self.client.write().await.take();
        if let Some(client) = client
            && let Err(error) = client.sign_out(vault).await
        {
            // Still signed in, as far as this device knows: keep the client.
            *self.client.write().await = Some(client);
            return Err(error.into());
        }
        self.account_changed();
        self.status(vault).await
    }

    /// The shared tokens with their current codes (code and seed grants alike:
    /// the server computes them), or the last list when the server is out of reach.
    /// Each code shown on `surface` for the first time is recorded as a view.
    pub async fn tokens(&self, vault: &Vault, surface: &str) -> Result<TeamTokensView, IpcError> {
        let Some(client) = self.client().await else {
            return Ok(TeamTokensView {
                linked: false,
                team_name: None,
                tokens: Vec::new(),
                stale: None,
            });
        };
        let (listed, stale) = match client.shared_tokens(vault).await {
            Ok(tokens) => (tokens, None),
            Err(error) => {
                let cached = vault
                    .cached_team_tokens()
                    .await?
                    .map(|(tokens, _)| tokens)
                    .unwrap_or_default();
                (cached, Some(IpcError::from(error)))
            }
        };
        let now = Instant::now();
        let kept: HashSet<String> = match vault.team_seed_ids().await {
            Ok(ids) => ids.into_iter().map(|(id, _)| id).collect(),
            Err(kaito_vault::VaultError::Locked) => HashSet::new(),
            Err(error) => return Err(error.into()),
        };
        let mut tokens = Vec::with_capacity(listed.len());
        for shared in listed {
            let on_device = kept.contains(&shared.token_id);
            let (code, code_error) = if on_device {
                match kept_code(vault, &shared.token_id).await {
                    Ok(code) => (code, None),
                    Err(error) => (None, Some(error)),
                }
            } else if shared.access.is_some() {
                self.codes_at(&client, &shared.token_id, now).await
            } else {
                (None, None)
            };
            if let Some(shown) = &code {
                self.record_view(vault, &shared.token_id, &shown.current, surface)
                    .await?;
            }
            tokens.push(TeamTokenView {
                access: match shared.access {
                    Some(GrantMode::Code) => "code",
                    Some(GrantMode::Seed) => "seed",
                    None => "none",
                }
                .to_owned(),
                token_id: shared.token_id,
                issuer: shared.issuer,
                account: shared.account,
                on_device,
                code,
                code_error,
            });
        }
        Ok(TeamTokensView {
            linked: true,
            team_name: Some(client.link().team_name.clone()),
            tokens,
            stale,
        })
    }

    /// Records the first showing of `code` on `surface` for the team's log.
    async fn record_view(
        &self,
        vault: &Vault,
        token_id: &str,
        code: &str,
        surface: &str,
    ) -> Result<(), IpcError> {
        let key = (token_id.to_owned(), code.to_owned(), surface.to_owned());
        {
            let mut viewed = lock(&self.viewed);
            // Old periods' codes never come back; dropping them all now and then
            // costs at most one repeated view per shown token.
            if viewed.len() > 2_000 {
                viewed.clear();
            }
            if !viewed.insert(key) {
                return Ok(());
            }
        }
        vault
            .record_team_event(token_id, TeamEventKind::CodeViewed, surface)
            .await?;
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
    ) -> (Option<CodeView>, Option<IpcError>) {
        let needs_fetch = lock(&self.codes)
            .get(token_id)
            .is_none_or(|fetched| fetched.stale(now));
        let mut error = None;
        if needs_fetch {
            match client.codes(token_id).await {
                Ok(codes) => {
                    lock(&self.codes).insert(
                        token_id.to_owned(),
                        FetchedCodes {
                            codes,
                            at: Instant::now(),
                        },
                    );
                }
                Err(failure) => error = Some(IpcError::from(failure)),
            }
        }
        let code = lock(&self.codes)
            .get(token_id)
            .and_then(|fetched| fetched.at(now));
        let error = if code.is_some() { None } else { error };
        (code, error)
    }

    /// Copies a shared token's current code (cleared like any copied code) and
    /// records the copy for the team log.
    pub async fn copy_code<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        state: &crate::state::AppState,
        token_id: &str,
        surface: &str,
    ) -> Result<crate::state::CopiedCode, IpcError> {
        let vault = state.vault()?;
        let client = self.signed_in().await?;
        let code = if let Some(code) = kept_code(vault, token_id).await? {
            code
        } else {
            let (code, error) = self.codes_at(&client, token_id, Instant::now()).await;
            code.ok_or_else(|| {
                error
                    .unwrap_or_else(|| IpcError::new("team.no_code", "No code for this token yet."))
            })?
        };
        let copied = crate::state::CopiedCode {
            code: code.current,
            valid_for: code
                .remaining_secs
                .map(|secs| Duration::from_secs(u64::from(secs))),
        };
        crate::clipboard::place(app, &copied, state.clipboard_clear_after())?;
        vault
            .record_team_event(token_id, TeamEventKind::CodeCopied, surface)
            .await?;
        self.sync_now.notify_one();
        Ok(copied)
    }

    /// Keeps a full-seed token's seed on this device (sealed in the vault).
    pub async fn keep_seed(&self, vault: &Vault, token_id: &str) -> Result<(), IpcError> {
        self.signed_in().await?.keep_seed(vault, token_id).await?;
        Ok(())
    }

    /// Sends the outbox whenever woken and at least every minute; after a failure
    /// waits with full jitter (or as long as the server asked).
    pub async fn sync_forever(self: Arc<Self>, vault: Arc<Vault>) {
        let mut failures = 0u32;
        let mut wait = Duration::from_secs(60);
        loop {
            let _ = tokio::time::timeout(wait, self.sync_now.notified()).await;
            let Some(client) = self.client().await else {
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

impl TeamMode {
    /// The inbox as the window shows it.
    pub async fn inbox(&self) -> TeamInboxView {
        let linked = self.client().await.is_some();
        let inbox = lock(&self.inbox);
        TeamInboxView {
            linked,
            live: inbox.live,
            problem: inbox.problem.clone(),
            messages: inbox
                .messages
                .iter()
                .rev()
                .map(|message| SmsView {
                    seq: message.seq,
                    label: message.label.clone(),
                    phone_number: message.phone_number.clone(),
                    from: message.from.clone(),
                    body: message.body.clone(),
                    code: message.code.clone(),
                    received_at_ms: message.received_at,
                })
                .collect(),
        }
    }

    /// Copies the code of inbox message `seq` (cleared like any copied code) and
    /// records the copy for the team log.
    pub async fn copy_sms_code<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        state: &crate::state::AppState,
        seq: i64,
    ) -> Result<String, IpcError> {
        let vault = state.vault()?;
        let (number_id, code) = {
            let inbox = lock(&self.inbox);
            let message = inbox
                .messages
                .iter()
                .find(|message| message.seq == seq)
                .ok_or_else(|| {
                    IpcError::new("team.no_message", "That message is no longer in the inbox.")
                })?;
            let code = message.code.clone().ok_or_else(|| {
                IpcError::new("team.no_code", "No code was found in that message.")
            })?;
            (message.number_id.clone(), code)
        };
        let copied = crate::state::CopiedCode {
            code,
            valid_for: None,
        };
        crate::clipboard::place(app, &copied, state.clipboard_clear_after())?;
        vault.record_sms_code_copy(&number_id, seq, "inbox").await?;
        self.sync_now.notify_one();
        Ok(copied.code)
    }

    /// Keeps the inbox stream open while signed in: from the last message seen,
    /// reopened with backoff after a drop, and restarted for a new account. A
    /// message arriving while the app runs raises a desktop notification, without
    /// its code: a code read there would escape the audit log.
    pub async fn inbox_forever<R: Runtime>(self: Arc<Self>, app: AppHandle<R>) {
        let started_ms = kaito_vault::clock::unix_millis(std::time::SystemTime::now());
        let mut sign_ins = self.sign_ins.subscribe();
        let mut failures = 0u32;
        loop {
            sign_ins.borrow_and_update();
            let Some(client) = self.client().await else {
                if sign_ins.changed().await.is_err() {
                    return;
                }
                continue;
            };
            let after = lock(&self.inbox).last_seq;
            let opened = tokio::select! {
                opened = client.sms_stream(after) => opened,
                _ = sign_ins.changed() => continue,
            };
            let problem = match opened {
                Ok(mut stream) => {
                    let opened_at = Instant::now();
                    self.set_inbox_state(&app, true, None);
                    let ended = loop {
                        let next = tokio::select! {
                            next = stream.next() => next,
                            _ = sign_ins.changed() => break None,
                        };
                        match next {
                            Ok(Some(message)) => {
                                let fresh = message.received_at >= started_ms - FRESH_FOR_MS;
                                if fresh {
                                    notify_message(&app, &message);
                                }
                                lock(&self.inbox).push(message);
                                let _ = app.emit(INBOX_EVENT, ());
                            }
                            Ok(None) => {
                                break Some(IpcError::new(
                                    "team.stream_closed",
                                    "The server closed the inbox stream.",
                                ));
                            }
                            Err(error) => break Some(IpcError::from(error)),
                        }
                    };
                    // A stream that held for a while was a healthy one.
                    if opened_at.elapsed() > Duration::from_secs(60) {
                        failures = 0;
                    }
                    ended
                }
                Err(error) => Some(IpcError::from(error)),
            };
            let Some(problem) = problem else {
                // Signed in or out meanwhile: start over for the new account.
                self.set_inbox_state(&app, false, None);
                continue;
            };
            tracing::info!(code = %problem.code, "the inbox stream will be reopened");
            self.set_inbox_state(&app, false, Some(problem));
            let wait = retry_delay(failures, None);
            failures = failures.saturating_add(1);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = sign_ins.changed() => {}
            }
        }
    }

    fn set_inbox_state<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        live: bool,
        problem: Option<IpcError>,
    ) {
        {
            let mut inbox = lock(&self.inbox);
            inbox.live = live;
            inbox.problem = problem;
        }
        let _ = app.emit(INBOX_EVENT, ());
    }
}

/// Says a text arrived, and for which inbox; the code stays in the window.
fn notify_message<R: Runtime>(app: &AppHandle<R>, message: &SmsMessageView) {
    let inbox = if message.label.is_empty() {
        message.phone_number.as_str()
    } else {
        message.label.as_str()
    };
    let body = if message.code.is_some() {
        format!("A code from {} — open the inbox to copy it.", message.from)
    } else {
        format!("A message from {}.", message.from)
    };
    if let Err(error) = app
        .notification()
        .builder()
        .title(format!("Text for {inbox}"))
        .body(body)
        .show()
    {
        tracing::debug!(%error, "no notification for the text message");
    }
}

/// The codes now of a token whose seed this device keeps, computed here; `None`
/// when it keeps none.
async fn kept_code(vault: &Vault, token_id: &str) -> Result<Option<CodeView>, IpcError> {
    let Some(uri) = vault.team_seed(token_id).await? else {
        return Ok(None);
    };
    let token = kaito_core::uri::parse(&uri).map_err(|error| {
        IpcError::new(
            "team.bad_seed",
            format!("The kept seed of this token cannot be used: {error}"),
        )
    })?;
    let generator = kaito_core::otp::CodeGenerator::new(&token);
    Ok(Some(crate::views::code_view(
        &generator,
        crate::views::unix_now(),
    )))
}

/// How this device appears in the team's device list.
fn device_name() -> String {
    format!("Kaito on {}", host_name())
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "this computer".to_owned())
}
