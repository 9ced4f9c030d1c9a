//! Signing a device in (password or invite), resuming a kept sign-in, signing out.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kaito_api::{
    AcceptInvite, EnrolChallenge, EnrolledSignIn, LoginAnswer, LoginRequest, MeView, MfaAnswer,
    NewDevice, RecoveryCodes, SetPassword, TokenPair, TotpEnrolment, paths,
};
use kaito_vault::{SecretSlot, Vault, VaultError};
use zeroize::Zeroizing;

use crate::client::{Access, TeamClient, blocking, http_client, read, unreachable};
use crate::error::TeamError;
use crate::link::{JoinLink, PasswordLink, TeamLink, server_url};
use crate::secrets::TeamSecrets;

/// What a right password leads to.
#[derive(Debug)]
pub enum PasswordStep {
    SignedIn(Box<TeamClient>),
    /// The account has a second factor: the code is asked for next.
    SecondFactor(PendingSignIn),
}

/// A sign-in waiting for its second factor: the server's five-minute challenge,
/// kept in memory only.
pub struct PendingSignIn {
    server_url: String,
    http: reqwest::Client,
    challenge: Zeroizing<String>,
    /// The team requires a second factor and the account has none: one is set
    /// up to finish this sign-in ([`TeamClient::begin_required_setup`]).
    pub must_set_up: bool,
}

impl std::fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSignIn")
            .field("server_url", &self.server_url)
            .finish_non_exhaustive()
    }
}

impl TeamClient {
    /// Signs in with email and password, enrols this device with a new Ed25519 key,
    /// and keeps the sign-in: the refresh token and device key in the keychain slot,
    /// the link in the vault. A wrong password or an unreachable server leaves
    /// nothing behind. An account with a second factor answers a pending sign-in
    /// instead, for [`Self::answer_second_factor`].
    pub async fn sign_in_steps(
        vault: &Vault,
        secrets: Arc<dyn SecretSlot>,
        server: &str,
        login: &LoginRequest,
        device_name: &str,
    ) -> Result<PasswordStep, TeamError> {
        let server_url = server_url(server)?;
        let http = http_client()?;
        let login = http
            .post(format!("{server_url}{}", paths::login()))
            .json(&LoginRequest {
                email: login.email.trim().to_owned(),
                password: login.password.clone(),
            })
            .send()
            .await
            .map_err(|error| unreachable(&server_url, &error))?;
        match read(login).await? {
            LoginAnswer::SignedIn(pair) => {
                Self::enrol(vault, secrets, server_url, http, &pair, device_name)
                    .await
                    .map(|client| PasswordStep::SignedIn(Box::new(client)))
            }
            LoginAnswer::SecondFactor(challenge) => Ok(PasswordStep::SecondFactor(PendingSignIn {
                server_url,
                http,
                must_set_up: challenge
                    .methods
                    .iter()
                    .any(|method| method == "enrol_totp"),
                challenge: Zeroizing::new(challenge.challenge),
            })),
        }
    }

    /// [`Self::sign_in_steps`] for an account without a second factor; one with
    /// one is refused as [`TeamError::SecondFactorRequired`].
    pub async fn sign_in(
        vault: &Vault,
        secrets: Arc<dyn SecretSlot>,
        server: &str,
        login: &LoginRequest,
        device_name: &str,
    ) -> Result<Self, TeamError> {
        match Self::sign_in_steps(vault, secrets, server, login, device_name).await? {
            PasswordStep::SignedIn(client) => Ok(*client),
            PasswordStep::SecondFactor(_) => Err(TeamError::SecondFactorRequired),
        }
    }

    /// The second step of a sign-in whose password step asked for one: the
    /// authenticator's code or a recovery code. A wrong code leaves `pending`
    /// usable for another try (the server counts each).
    pub async fn answer_second_factor(
        vault: &Vault,
        secrets: Arc<dyn SecretSlot>,
        pending: &PendingSignIn,
        code: &str,
        device_name: &str,
    ) -> Result<Self, TeamError> {
        let server_url = &pending.server_url;
        let answered = pending
            .http
            .post(format!("{server_url}{}", paths::login_mfa()))
            .json(&MfaAnswer {
                challenge: pending.challenge.to_string(),
                code: code.trim().to_owned(),
            })
            .send()
            .await
            .map_err(|error| unreachable(server_url, &error))?;
        let pair: TokenPair = read(answered).await?;
        Self::enrol(
            vault,
            secrets,
            server_url.clone(),
            pending.http.clone(),
            &pair,
            device_name,
        )
        .await
    }

    /// For a sign-in that must set up an authenticator: its secret to scan.
    pub async fn begin_required_setup(pending: &PendingSignIn) -> Result<TotpEnrolment, TeamError> {
        let server_url = &pending.server_url;
        let started = pending
            .http
            .post(format!("{server_url}{}", paths::login_mfa_enrol()))
            .json(&EnrolChallenge {
                challenge: pending.challenge.to_string(),
            })
            .send()
            .await
            .map_err(|error| unreachable(server_url, &error))?;
        read(started).await
    }

    /// Finishes that sign-in with the new authenticator's first code: signed in,
    /// and the recovery codes to show once. A wrong code leaves `pending` usable.
    pub async fn finish_required_setup(
        vault: &Vault,
        secrets: Arc<dyn SecretSlot>,
        pending: &PendingSignIn,
        code: &str,
        device_name: &str,
    ) -> Result<(Self, RecoveryCodes), TeamError> {
        let server_url = &pending.server_url;
        let answered = pending
            .http
            .post(format!("{server_url}{}", paths::login_mfa_enrol_confirm()))
            .json(&MfaAnswer {
                challenge: pending.challenge.to_string(),
                code: code.trim().to_owned(),
            })
            .send()
            .await
            .map_err(|error| unreachable(server_url, &error))?;
        let signed_in: EnrolledSignIn = read(answered).await?;
        let client = Self::enrol(
            vault,
            secrets,
            server_url.clone(),
            pending.http.clone(),
            &signed_in.tokens,
            device_name,
        )
        .await?;
        Ok((client, signed_in.recovery_codes))
    }

    /// Joins a team with an invite (a `kaito://join` link's): sets this member's
    /// name and first password, then signs this device in like [`Self::sign_in`].
    pub async fn join(
        vault: &Vault,
        secrets: Arc<dyn SecretSlot>,
        link: &JoinLink,
        name: &str,
        password: &str,
        device_name: &str,
    ) -> Result<Self, TeamError> {
        let server_url = server_url(&link.server)?;
        let http = http_client()?;
        let accepted = http
            .post(format!("{server_url}{}", paths::accept_invite()))
            .json(&AcceptInvite {
                token: link.invite.clone(),
                name: name.trim().to_owned(),
                password: password.to_owned(),
            })
            .send()
            .await
            .map_err(|error| unreachable(&server_url, &error))?;
        let pair: TokenPair = read(accepted).await?;
        Self::enrol(vault, secrets, server_url, http, &pair, device_name).await
    }

    /// Chooses a new password with a set-password link (an admin's reset), then
    /// signs this device in like [`Self::sign_in`].
    pub async fn set_password_with_link(
        vault: &Vault,
        secrets: Arc<dyn SecretSlot>,
        link: &PasswordLink,
        password: &str,
        device_name: &str,
    ) -> Result<Self, TeamError> {
        let server_url = server_url(&link.server)?;
        let http = http_client()?;
        let set = http
            .post(format!("{server_url}{}", paths::set_password()))
            .json(&SetPassword {
                token: link.token.clone(),
                password: password.to_owned(),
            })
            .send()
            .await
            .map_err(|error| unreachable(&server_url, &error))?;
        let pair: TokenPair = read(set).await?;
        Self::enrol(vault, secrets, server_url, http, &pair, device_name).await
    }

    /// With a fresh sign-in: enrols this device, keeps the refresh token and the
    /// device key in the keychain slot and the link in the vault.
    pub(crate) async fn enrol(
        vault: &Vault,
        secrets: Arc<dyn SecretSlot>,
        server_url: String,
        http: reqwest::Client,
        pair: &TokenPair,
        device_name: &str,
    ) -> Result<Self, TeamError> {
        let access = Access::from_pair(pair);
        let me: MeView = read(
            http.get(format!("{server_url}{}", paths::me()))
                .bearer_auth(access.token.as_str())
                .send()
                .await
                .map_err(|error| unreachable(&server_url, &error))?,
        )
        .await?;
        // This device signed in before as the same member: what that sign-in left
        // unsent goes now, signed by its own device key; another member's events
        // cannot be sent as this one, so they stop this sign-in.
        send_leftovers(vault, &secrets, (&http, &server_url, pair), &me).await?;
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|error| {
            TeamError::Vault(VaultError::Randomness {
                detail: error.to_string(),
            })
        })?;
        let device_key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let device: kaito_api::CreatedId = read(
            http.post(format!("{server_url}{}", paths::devices()))
                .bearer_auth(access.token.as_str())
                .json(&NewDevice {
                    name: device_name.to_owned(),
                    public_key: STANDARD.encode(device_key.verifying_key().to_bytes()),
                })
                .send()
                .await
                .map_err(|error| unreachable(&server_url, &error))?,
        )
        .await?;
        let stored = TeamSecrets {
            refresh_token: pair.refresh_token.clone(),
            device_key: STANDARD.encode(seed.as_ref()),
        }
        .to_text()?;
        let slot = secrets.clone();
        blocking(move || slot.store(&stored)).await?;
        let link = TeamLink {
            server_url,
            user_id: me.user_id,
            email: me.email,
            name: me.name,
            role: me.role,
            team_id: me.team_id,
            team_name: me.team_name,
            device_id: device.id,
        };
        vault.save_team_link(&link).await?;
        Ok(Self {
            http,
            link,
            secrets,
            access: tokio::sync::Mutex::new(Some(access)),
        })
    }

    /// The connection kept from an earlier sign-in, if there is one.
    pub async fn resume(
        vault: &Vault,
        secrets: Arc<dyn SecretSlot>,
    ) -> Result<Option<Self>, TeamError> {
        let Some(link) = TeamLink::load(vault).await? else {
            return Ok(None);
        };
        Ok(Some(Self {
            http: http_client()?,
            link,
            secrets,
            access: tokio::sync::Mutex::new(None),
        }))
    }

    /// Signs out: the server ends the session (when it can be reached), and the
    /// keychain entry, the link and the cached list go. Personal tokens stay.
    /// Events not yet in the team's log are sent first; if some cannot be, the
    /// sign-out is refused ([`TeamError::UnsentEvents`]) unless `discard_unsent`
    /// (the member chose to, having been told).
    pub async fn sign_out(&self, vault: &Vault, discard_unsent: bool) -> Result<(), TeamError> {
        let synced = self.sync_outbox(vault).await;
        let (pending, _) = vault.team_outbox_state().await?;
        if pending > 0 && !discard_unsent {
            return Err(TeamError::UnsentEvents {
                count: pending,
                why: synced.err().map_or_else(
                    || "the server did not take them".to_owned(),
                    |error| error.to_string(),
                ),
            });
        }
        if pending > 0 {
            tracing::warn!(pending, "signed out with events the team's log never got");
        }
        if let Ok(token) = self.access_token(false).await {
            // Best effort: offline, the session simply expires on the server.
            let _ = self
                .http
                .post(format!("{}{}", self.link.server_url, paths::logout()))
                .bearer_auth(token.as_str())
                .json(&kaito_api::Empty {})
                .send()
                .await;
        }
        let slot = self.secrets.clone();
        blocking(move || slot.delete()).await?;
        vault.forget_team().await?;
        Ok(())
    }
}

/// A slot holding the previous sign-in's secrets in memory, for sending what it
/// left unsent; it stores nothing.
#[derive(Debug)]
struct HeldSecrets(Zeroizing<String>);

impl SecretSlot for HeldSecrets {
    fn load(&self) -> Result<Option<Zeroizing<String>>, VaultError> {
        Ok(Some(self.0.clone()))
    }

    fn store(&self, _text: &str) -> Result<(), VaultError> {
        Ok(())
    }

    fn delete(&self) -> Result<(), VaultError> {
        Ok(())
    }
}

/// Before a new sign-in replaces the link (and with it the outbox): sends the
/// events the previous sign-in left unsent when it was the same member on the same
/// server, with the new access token and the old device's key; refuses the sign-in
/// when they cannot be sent, so nothing is dropped without the member knowing.
async fn send_leftovers(
    vault: &Vault,
    secrets: &Arc<dyn SecretSlot>,
    (http, server_url, pair): (&reqwest::Client, &str, &TokenPair),
    me: &MeView,
) -> Result<(), TeamError> {
    let (pending, _) = vault.team_outbox_state().await?;
    if pending == 0 {
        return Ok(());
    }
    let Some(previous) = TeamLink::load(vault).await? else {
        return Ok(());
    };
    let unsent = |why: String| TeamError::UnsentEvents {
        count: pending,
        why,
    };
    if previous.server_url != server_url || previous.user_id != me.user_id {
        return Err(unsent(format!(
            "they are {}'s on {}; sign in as them to send them, or sign them out",
            previous.email, previous.server_url
        )));
    }
    let slot = secrets.clone();
    let Some(old) = blocking(move || slot.load()).await? else {
        return Err(unsent(
            "the previous sign-in's device key is gone".to_owned(),
        ));
    };
    let client = TeamClient {
        http: http.clone(),
        link: previous,
        secrets: Arc::new(HeldSecrets(old)),
        access: tokio::sync::Mutex::new(Some(Access::from_pair(pair))),
    };
    client
        .sync_outbox(vault)
        .await
        .map_err(|error| unsent(error.to_string()))?;
    Ok(())
}
