//! Signing a device in (password or invite), resuming a kept sign-in, signing out.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kaito_api::{AcceptInvite, LoginRequest, MeView, NewDevice, SetPassword, TokenPair, paths};
use kaito_vault::{SecretSlot, Vault, VaultError};
use zeroize::Zeroizing;

use crate::client::{Access, TeamClient, blocking, http_client, read, unreachable};
use crate::error::TeamError;
use crate::link::{JoinLink, PasswordLink, TeamLink, server_url};
use crate::secrets::TeamSecrets;

impl TeamClient {
    /// Signs in with email and password, enrols this device with a new Ed25519 key,
    /// and keeps the sign-in: the refresh token and device key in the keychain slot,
    /// the link in the vault. A wrong password or an unreachable server leaves
    /// nothing behind.
    pub async fn sign_in(
        vault: &Vault,
        secrets: Arc<dyn SecretSlot>,
        server: &str,
        login: &LoginRequest,
        device_name: &str,
    ) -> Result<Self, TeamError> {
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
        let pair: TokenPair = read(login).await?;
        Self::enrol(vault, secrets, server_url, http, &pair, device_name).await
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
    async fn enrol(
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
    pub async fn sign_out(&self, vault: &Vault) -> Result<(), TeamError> {
        // What is still unsent goes first, if the server takes it: a signed-out
        // device could never send it later.
        let _ = self.sync_outbox(vault).await;
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
