//! Team mode's local side: the link to a team server (who signed in, where, as which
//! device), the sign-in secrets in the OS keychain (the rotating refresh token and
//! the device's Ed25519 key), the last list of shared tokens kept for offline use,
//! and the client that signs in, enrols this device, lists shared tokens and fetches
//! the codes the server computes for code-only grants. No seed of a code-only token
//! ever reaches this device.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kaito_api::{
    ApiError, BatchReceipt, CodesView, DeviceEvent, EventBatch, GrantMode, MeView, NewDevice, Role,
    SeedView, SharedTokenView, SmsMessageView, TokenPair,
};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::clock::{from_unix_millis, unix_millis};
use crate::error::VaultError;
use crate::keystore::SecretSlot;
use crate::vault::Vault;

/// Who this device is signed in as, and where. Not secret: kept in the vault file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamLink {
    /// The server's base URL, as the member typed it (without a trailing slash).
    pub server_url: String,
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub team_id: String,
    pub team_name: String,
    /// This device's id on the server (its audit batches are signed by its key).
    pub device_id: String,
}

/// The keychain entry: what signing in leaves behind besides the link.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct TeamSecrets {
    refresh_token: String,
    /// Base64 Ed25519 secret key of this device.
    device_key: String,
}

impl std::fmt::Debug for TeamSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TeamSecrets(<redacted>)")
    }
}

impl TeamSecrets {
    fn to_text(&self) -> Result<Zeroizing<String>, TeamError> {
        serde_json::to_string(self)
            .map(Zeroizing::new)
            .map_err(|error| TeamError::Protocol(format!("sign-in secrets: {error}")))
    }

    fn from_text(text: &str) -> Result<Self, TeamError> {
        serde_json::from_str(text).map_err(|_| {
            TeamError::Vault(VaultError::Keychain {
                detail: "the team sign-in entry in the keychain is damaged".to_owned(),
            })
        })
    }
}

/// Why a team operation failed; [`TeamError::code`] is what the UI shows.
#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error(
        "“{0}” is not a team server address: use https://…, or http:// only for this computer (localhost)"
    )]
    BadUrl(String),
    #[error("this is not a Kaito invite link: {0}")]
    BadJoinLink(String),
    #[error("the team server at {url} cannot be reached: {detail}")]
    Unreachable { url: String, detail: String },
    /// The server said no, with its own code and message.
    #[error("{message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("this device is not signed in to a team")]
    NotLinked,
    /// The server asked to wait (HTTP 429 with `Retry-After`).
    #[error("the team server is busy; trying again in {} s", after.as_secs())]
    RetryLater { after: Duration },
    #[error("the team sign-in has ended (signed out, disabled or expired); sign in again")]
    SignedOut,
    #[error("the team server answered something Kaito does not understand: {0}")]
    Protocol(String),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl TeamError {
    /// A stable code for the UI: the server's own for its refusals
    /// (`auth.invalid_credentials`, `grant.none`…), `team.*` for the rest.
    #[must_use]
    pub fn code(&self) -> String {
        match self {
            Self::BadUrl(_) => "team.bad_url".to_owned(),
            Self::BadJoinLink(_) => "team.bad_join_link".to_owned(),
            Self::Unreachable { .. } => "team.unreachable".to_owned(),
            Self::Refused { code, .. } => code.clone(),
            Self::NotLinked => "team.not_linked".to_owned(),
            Self::RetryLater { .. } => "team.retry_later".to_owned(),
            Self::SignedOut => "team.signed_out".to_owned(),
            Self::Protocol(_) => "team.protocol".to_owned(),
            Self::Vault(error) => error.code().to_owned(),
        }
    }
}

/// Checks and tidies a server address: https, or http to this computer only (a
/// password must not cross a network in clear).
pub fn server_url(text: &str) -> Result<String, TeamError> {
    let trimmed = text.trim().trim_end_matches('/');
    let bad = || TeamError::BadUrl(text.trim().to_owned());
    let url = reqwest::Url::parse(trimmed).map_err(|_| bad())?;
    let local = matches!(
        url.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    );
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        _ => return Err(bad()),
    }
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err(bad());
    }
    Ok(trimmed.to_owned())
}

/// A `kaito://join?server=…&invite=…` link, as an admin's invite makes it.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinLink {
    pub server: String,
    pub invite: String,
}

impl std::fmt::Debug for JoinLink {
    // The invite is a one-time credential: kept out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinLink")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl JoinLink {
    /// Reads a join link; the server address must be one [`server_url`] accepts.
    pub fn parse(text: &str) -> Result<Self, TeamError> {
        let bad = |why: &str| TeamError::BadJoinLink(why.to_owned());
        let url = reqwest::Url::parse(text.trim()).map_err(|_| bad("it is not a link"))?;
        if url.scheme() != "kaito" || url.host_str() != Some("join") {
            return Err(bad("it does not start with kaito://join"));
        }
        let value = |name: &str| {
            url.query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let server = value("server").ok_or_else(|| bad("it names no server"))?;
        let invite = value("invite").ok_or_else(|| bad("it carries no invite"))?;
        server_url(&server)?;
        Ok(Self { server, invite })
    }
}

/// The live SMS inbox: server-sent events, one `sms` event per message.
pub struct SmsStream {
    response: reqwest::Response,
    buffer: String,
    server_url: String,
}

impl std::fmt::Debug for SmsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsStream").finish_non_exhaustive()
    }
}

impl SmsStream {
    /// The next message; `None` when the server ended the stream (signed out).
    pub async fn next(&mut self) -> Result<Option<SmsMessageView>, TeamError> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut event = None;
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        event = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                // Keep-alive comments and other events are skipped.
                if event.as_deref() == Some("sms") {
                    return serde_json::from_str(&data).map(Some).map_err(|error| {
                        TeamError::Protocol(format!("an inbox event did not parse: {error}"))
                    });
                }
                continue;
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(None) => return Ok(None),
                Err(error) => return Err(unreachable(&self.server_url, &error)),
            }
        }
    }
}

/// Refuses ids that could change the request's path.
pub(crate) fn check_id(token_id: &str) -> Result<(), TeamError> {
    if token_id.is_empty()
        || !token_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(TeamError::Protocol(format!(
            "“{token_id}” is not a token id"
        )));
    }
    Ok(())
}

/// Most events one outbox batch carries.
pub const OUTBOX_BATCH: u32 = 500;

/// What one sync sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Events the server recorded now.
    pub accepted: u32,
    /// Events it had already (a resend after an interrupted sync).
    pub duplicates: u32,
}

/// How long to wait before the next sync after `failures` failed ones in a row:
/// "full jitter" (a random wait up to 2 s × 2^failures, at most 5 minutes), never
/// less than the server's `Retry-After`.
#[must_use]
pub fn retry_delay(failures: u32, retry_after: Option<Duration>) -> Duration {
    let ceiling_ms = 2_000u64
        .saturating_mul(1u64 << failures.min(16))
        .min(300_000);
    let mut random = [0u8; 8];
    // Without randomness, waiting the full ceiling is still correct, only in step.
    let jittered = if getrandom::fill(&mut random).is_ok() {
        u64::from_le_bytes(random) % (ceiling_ms + 1)
    } else {
        ceiling_ms
    };
    Duration::from_millis(jittered).max(retry_after.unwrap_or_default())
}

/// An event of a shared token this device records for the team's audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamEventKind {
    CodeViewed,
    CodeCopied,
    SeedRevealed,
    /// A code from the shared SMS inbox; the subject is the number.
    SmsCodeCopied,
}

impl TeamEventKind {
    /// The server's name for it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CodeViewed => "code.viewed",
            Self::CodeCopied => "code.copied",
            Self::SeedRevealed => "seed.revealed",
            Self::SmsCodeCopied => "sms.code_copied",
        }
    }
}

/// What the server answers to a create (`POST /v1/devices`).
#[derive(Deserialize)]
struct Created {
    id: String,
}

/// An access token and when to stop using it.
struct Access {
    token: Zeroizing<String>,
    good_until: Instant,
}

/// The signed-in team connection of this profile.
pub struct TeamClient {
    http: reqwest::Client,
    link: TeamLink,
    secrets: Arc<dyn SecretSlot>,
    /// One refresh at a time: refresh tokens rotate, and a second use of a spent
    /// one would end the session.
    access: tokio::sync::Mutex<Option<Access>>,
}

impl std::fmt::Debug for TeamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamClient")
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

fn http_client() -> Result<reqwest::Client, TeamError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("kaito/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| TeamError::Protocol(format!("no HTTP client: {error}")))
}

fn unreachable(url: &str, error: &reqwest::Error) -> TeamError {
    TeamError::Unreachable {
        url: url.to_owned(),
        detail: if error.is_timeout() {
            "it did not answer in time".to_owned()
        } else if error.is_connect() {
            "the connection was refused or the name is unknown".to_owned()
        } else {
            error.to_string()
        },
    }
}

/// The body of a successful answer, or the server's `{code, message}` refusal.
pub(crate) async fn read<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, TeamError> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|error| TeamError::Protocol(error.to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes)
            .map_err(|error| TeamError::Protocol(format!("an answer did not parse: {error}")));
    }
    match serde_json::from_slice::<ApiError>(&bytes) {
        Ok(error) => Err(TeamError::Refused {
            status: status.as_u16(),
            code: error.code,
            message: error.message,
        }),
        Err(_) => Err(TeamError::Protocol(format!(
            "HTTP {status} without an error body"
        ))),
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, VaultError> + Send + 'static,
) -> Result<T, TeamError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| {
            TeamError::Vault(VaultError::Task {
                detail: error.to_string(),
            })
        })?
        .map_err(TeamError::Vault)
}

impl TeamClient {
    /// Signs in with email and password, enrols this device with a new Ed25519 key,
    /// and keeps the sign-in: the refresh token and device key in the keychain slot,
    /// the link in the vault. A wrong password or an unreachable server leaves
    /// nothing behind.
    pub async fn sign_in(
        vault: &Vault,
        secrets: Arc<dyn SecretSlot>,
        server: &str,
        (email, password): (&str, &str),
        device_name: &str,
    ) -> Result<Self, TeamError> {
        let server_url = server_url(server)?;
        let http = http_client()?;
        let login = http
            .post(format!("{server_url}/v1/auth/login"))
            .json(&serde_json::json!({ "email": email.trim(), "password": password }))
            .send()
            .await
            .map_err(|error| unreachable(&server_url, &error))?;
        let pair: TokenPair = read(login).await?;
        Self::enrol(vault, secrets, (server_url, http), &pair, device_name).await
    }

    /// Joins a team with an invite (a `kaito://join` link's): sets this member's
    /// name and first password, then signs this device in like [`Self::sign_in`].
    pub async fn join(
        vault: &Vault,
        secrets: Arc<dyn SecretSlot>,
        link: &JoinLink,
        (name, password): (&str, &str),
        device_name: &str,
    ) -> Result<Self, TeamError> {
        let server_url = server_url(&link.server)?;
        let http = http_client()?;
        let accepted = http
            .post(format!("{server_url}/v1/invites/accept"))
            .json(&serde_json::json!({
                "token": link.invite,
                "name": name.trim(),
                "password": password,
            }))
            .send()
            .await
            .map_err(|error| unreachable(&server_url, &error))?;
        let pair: TokenPair = read(accepted).await?;
        Self::enrol(vault, secrets, (server_url, http), &pair, device_name).await
    }

    /// With a fresh sign-in: enrols this device, keeps the refresh token and the
    /// device key in the keychain slot and the link in the vault.
    async fn enrol(
        vault: &Vault,
        secrets: Arc<dyn SecretSlot>,
        (server_url, http): (String, reqwest::Client),
        pair: &TokenPair,
        device_name: &str,
    ) -> Result<Self, TeamError> {
        let access = Zeroizing::new(pair.access_token.clone());
        let me: MeView = read(
            http.get(format!("{server_url}/v1/me"))
                .bearer_auth(access.as_str())
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
        let device: Created = read(
            http.post(format!("{server_url}/v1/devices"))
                .bearer_auth(access.as_str())
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
            access: tokio::sync::Mutex::new(Some(Access {
                token: access,
                good_until: Instant::now()
                    + Duration::from_secs(pair.access_expires_in_secs.saturating_sub(30)),
            })),
        })
    }

    /// The connection kept from an earlier sign-in, if there is one.
    pub async fn resume(
        vault: &Vault,
        secrets: Arc<dyn SecretSlot>,
    ) -> Result<Option<Self>, TeamError> {
        let Some(link) = vault.team_link().await? else {
            return Ok(None);
        };
        Ok(Some(Self {
            http: http_client()?,
            link,
            secrets,
            access: tokio::sync::Mutex::new(None),
        }))
    }

    #[must_use]
    pub fn link(&self) -> &TeamLink {
        &self.link
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A usable access token: the current one, or a new one bought with the refresh
    /// token (which rotates: the new one is in the keychain before it is used).
    async fn access_token(&self, renew: bool) -> Result<Zeroizing<String>, TeamError> {
        let mut access = self.access.lock().await;
        if !renew
            && let Some(current) = access.as_ref()
            && current.good_until > Instant::now()
        {
            return Ok(current.token.clone());
        }
        let slot = self.secrets.clone();
        let text = blocking(move || slot.load())
            .await?
            .ok_or(TeamError::SignedOut)?;
        let mut secrets = TeamSecrets::from_text(&text)?;
        let answer = self
            .http
            .post(format!("{}/v1/auth/refresh", self.link.server_url))
            .json(&serde_json::json!({ "refresh_token": secrets.refresh_token }))
            .send()
            .await
            .map_err(|error| unreachable(&self.link.server_url, &error))?;
        let pair: TokenPair = match read(answer).await {
            Err(TeamError::Refused { status: 401, .. }) => return Err(TeamError::SignedOut),
            other => other?,
        };
        secrets.refresh_token.zeroize();
        secrets.refresh_token.clone_from(&pair.refresh_token);
        let stored = secrets.to_text()?;
        let slot = self.secrets.clone();
        blocking(move || slot.store(&stored)).await?;
        let token = Zeroizing::new(pair.access_token.clone());
        *access = Some(Access {
            token: token.clone(),
            good_until: Instant::now()
                + Duration::from_secs(pair.access_expires_in_secs.saturating_sub(30)),
        });
        Ok(token)
    }

    /// Sends the request `build` makes with the access token. An access token the
    /// server no longer takes is renewed once; refused again, the sign-in has ended.
    pub(crate) async fn send_signed_in(
        &self,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, TeamError> {
        let mut renew = false;
        loop {
            let token = self.access_token(renew).await?;
            let response = build(token.as_str())
                .send()
                .await
                .map_err(|error| unreachable(&self.link.server_url, &error))?;
            if response.status() != reqwest::StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            if renew {
                return Err(TeamError::SignedOut);
            }
            renew = true;
        }
    }

    /// GET `path` as the signed-in member.
    pub(crate) async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, TeamError> {
        let url = format!("{}{path}", self.link.server_url);
        read(
            self.send_signed_in(|token| self.http.get(&url).bearer_auth(token))
                .await?,
        )
        .await
    }

    /// The shared tokens this member may use, with their grant; kept in the vault
    /// for when the server cannot be reached.
    pub async fn shared_tokens(&self, vault: &Vault) -> Result<Vec<SharedTokenView>, TeamError> {
        let tokens: Vec<SharedTokenView> = self.get("/v1/tokens").await?;
        vault.cache_team_tokens(&tokens).await?;
        // A locked vault cannot touch seeds; the next list after unlocking will.
        match self.reconcile_seeds(vault, &tokens).await {
            Err(TeamError::Vault(VaultError::Locked)) | Ok(()) => {}
            Err(error) => return Err(error),
        }
        Ok(tokens)
    }

    /// The current and next code of a shared token, computed by the server (which
    /// records that this member viewed it).
    pub async fn codes(&self, token_id: &str) -> Result<CodesView, TeamError> {
        check_id(token_id)?;
        self.get(&format!("/v1/tokens/{token_id}/codes")).await
    }

    /// Fetches the seed of a shared token this member holds a full-seed grant for and
    /// keeps it in the vault, sealed, so its codes work offline. The server logs the
    /// fetch.
    pub async fn keep_seed(&self, vault: &Vault, token_id: &str) -> Result<(), TeamError> {
        check_id(token_id)?;
        // The rotation the copy is for, read before the seed: a rotation in between
        // makes the copy look older than it is, which costs one extra fetch.
        let rotated_at = vault
            .cached_team_tokens()
            .await?
            .and_then(|(tokens, _)| tokens.into_iter().find(|token| token.token_id == token_id))
            .and_then(|token| token.rotated_at);
        let seed: SeedView = self.get(&format!("/v1/tokens/{token_id}/seed")).await?;
        let uri = Zeroizing::new(seed.uri);
        kaito_core::uri::parse(&uri).map_err(|error| {
            TeamError::Protocol(format!(
                "the server sent a seed that does not parse: {error}"
            ))
        })?;
        vault.store_team_seed(token_id, &uri, rotated_at).await?;
        Ok(())
    }

    /// Brings the kept seeds in line with a fresh list: a seed whose full-seed grant
    /// ended is removed, one kept before the token's latest rotation is fetched
    /// again (or removed when that fails, so no outdated code is ever shown).
    async fn reconcile_seeds(
        &self,
        vault: &Vault,
        listed: &[SharedTokenView],
    ) -> Result<(), TeamError> {
        for (token_id, kept_rotation) in vault.team_seed_rotations().await? {
            let listed = listed.iter().find(|token| token.token_id == token_id);
            let still_seed = listed.is_some_and(|token| token.access == Some(GrantMode::Seed));
            if !still_seed {
                vault.forget_team_seed(&token_id).await?;
                continue;
            }
            let rotated_since = listed.is_some_and(|token| token.rotated_at != kept_rotation);
            if rotated_since && self.keep_seed(vault, &token_id).await.is_err() {
                vault.forget_team_seed(&token_id).await?;
            }
        }
        Ok(())
    }

    /// Text messages after `after_seq` on the numbers this member may read.
    pub async fn sms_messages(&self, after_seq: i64) -> Result<Vec<SmsMessageView>, TeamError> {
        self.get(&format!("/v1/sms/messages?after={after_seq}"))
            .await
    }

    /// The live inbox from `after_seq` on: what arrived since comes first, then each
    /// new message as it arrives. Reopen with the last seq seen after a drop.
    pub async fn sms_stream(&self, after_seq: i64) -> Result<SmsStream, TeamError> {
        let url = format!("{}/v1/sms/stream", self.link.server_url);
        // No overall timeout: the stream stays open (the server sends keep-alives).
        let streaming = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|error| TeamError::Protocol(error.to_string()))?;
        let response = self
            .send_signed_in(|token| {
                streaming
                    .get(&url)
                    .bearer_auth(token)
                    .header("last-event-id", after_seq.to_string())
            })
            .await?;
        if !response.status().is_success() {
            return Err(read::<serde_json::Value>(response)
                .await
                .err()
                .unwrap_or_else(|| TeamError::Protocol("the stream did not open".to_owned())));
        }
        Ok(SmsStream {
            response,
            buffer: String::new(),
            server_url: self.link.server_url.clone(),
        })
    }

    /// Sends the outbox's unsent events in signed batches of up to [`OUTBOX_BATCH`],
    /// oldest first, marking each batch sent only once the server took it. A crash
    /// between the two resends the batch, which the server counts once (it keys on
    /// event ids), so nothing is lost and nothing counted twice.
    pub async fn sync_outbox(&self, vault: &Vault) -> Result<SyncReport, TeamError> {
        let mut report = SyncReport::default();
        loop {
            let events = vault.team_outbox_unsent(OUTBOX_BATCH).await?;
            let Some(last) = events.last().map(|event| event.seq) else {
                return Ok(report);
            };
            let body = serde_json::to_vec(&EventBatch {
                device_id: self.link.device_id.clone(),
                events,
            })
            .map_err(|error| TeamError::Protocol(format!("a batch: {error}")))?;
            let signature = self.sign(&body).await?;
            let receipt: BatchReceipt = self.post_batch(&body, &signature).await?;
            vault.mark_team_events_sent(last).await?;
            report.accepted += receipt.accepted;
            report.duplicates += receipt.duplicates;
        }
    }

    async fn sign(&self, body: &[u8]) -> Result<String, TeamError> {
        use ed25519_dalek::Signer as _;
        let slot = self.secrets.clone();
        let text = blocking(move || slot.load())
            .await?
            .ok_or(TeamError::SignedOut)?;
        let secrets = TeamSecrets::from_text(&text)?;
        let damaged =
            || TeamError::Protocol("the device key in the keychain is damaged".to_owned());
        let seed: Zeroizing<Vec<u8>> = Zeroizing::new(
            STANDARD
                .decode(secrets.device_key.as_bytes())
                .map_err(|_| damaged())?,
        );
        let seed: &[u8; 32] = seed.as_slice().try_into().map_err(|_| damaged())?;
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        Ok(STANDARD.encode(key.sign(body).to_bytes()))
    }

    async fn post_batch(&self, body: &[u8], signature: &str) -> Result<BatchReceipt, TeamError> {
        let url = format!("{}/v1/events:batch", self.link.server_url);
        let response = self
            .send_signed_in(|token| {
                self.http
                    .post(&url)
                    .bearer_auth(token)
                    .header("content-type", "application/json")
                    .header("x-kaito-signature", signature)
                    .body(body.to_vec())
            })
            .await?;
        if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse().ok())
                .map_or(Duration::from_secs(30), Duration::from_secs);
            return Err(TeamError::RetryLater { after });
        }
        read(response).await
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
                .post(format!("{}/v1/auth/logout", self.link.server_url))
                .bearer_auth(token.as_str())
                .json(&serde_json::json!({}))
                .send()
                .await;
        }
        let slot = self.secrets.clone();
        blocking(move || slot.delete()).await?;
        vault.forget_team().await?;
        Ok(())
    }
}

impl Vault {
    /// The team this profile is signed in to, if any.
    pub async fn team_link(&self) -> Result<Option<TeamLink>, VaultError> {
        let document: Option<String> =
            sqlx::query_scalar("SELECT document FROM team_link WHERE id = 1")
                .fetch_optional(self.pool())
                .await?;
        document
            .map(|text| {
                serde_json::from_str(&text).map_err(|error| VaultError::CorruptDatabase {
                    detail: format!("the team link: {error}"),
                })
            })
            .transpose()
    }

    async fn save_team_link(&self, link: &TeamLink) -> Result<(), VaultError> {
        let document =
            serde_json::to_string(link).map_err(|error| VaultError::CorruptDatabase {
                detail: format!("the team link: {error}"),
            })?;
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        // A new sign-in replaces the old link and its cached tokens, and is a new
        // device whose events are numbered from 1.
        sqlx::query("DELETE FROM team_token_cache")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM team_outbox")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO team_link (id, document, linked_at) VALUES (1, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET document = excluded.document, linked_at = excluded.linked_at",
        )
        .bind(document)
        .bind(unix_millis(self.now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn cache_team_tokens(&self, tokens: &[SharedTokenView]) -> Result<(), VaultError> {
        let document =
            serde_json::to_string(tokens).map_err(|error| VaultError::CorruptDatabase {
                detail: format!("the shared tokens: {error}"),
            })?;
        sqlx::query(
            "INSERT INTO team_token_cache (id, document, fetched_at) VALUES (1, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET document = excluded.document, fetched_at = excluded.fetched_at",
        )
        .bind(document)
        .bind(unix_millis(self.now()))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The shared tokens as last fetched, and when: shown (as stale) while offline.
    pub async fn cached_team_tokens(
        &self,
    ) -> Result<Option<(Vec<SharedTokenView>, SystemTime)>, VaultError> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT document, fetched_at FROM team_token_cache WHERE id = 1")
                .fetch_optional(self.pool())
                .await?;
        row.map(|(document, fetched_at)| {
            serde_json::from_str(&document)
                .map(|tokens| (tokens, from_unix_millis(fetched_at)))
                .map_err(|error| VaultError::CorruptDatabase {
                    detail: format!("the shared tokens: {error}"),
                })
        })
        .transpose()
    }

    /// Records that a shared token's code was viewed or copied here (or its seed
    /// revealed), for the next sync. `surface` says where: "window", "tray",
    /// "palette".
    pub async fn record_team_event(
        &self,
        token_id: &str,
        kind: TeamEventKind,
        surface: &str,
    ) -> Result<(), VaultError> {
        self.queue_team_event(token_id, kind, serde_json::json!({ "surface": surface }))
            .await
    }

    /// Records that the code of inbox message `seq` on number `number_id` was copied.
    pub async fn record_sms_code_copy(
        &self,
        number_id: &str,
        seq: i64,
        surface: &str,
    ) -> Result<(), VaultError> {
        self.queue_team_event(
            number_id,
            TeamEventKind::SmsCodeCopied,
            serde_json::json!({ "surface": surface, "message_seq": seq }),
        )
        .await
    }

    async fn queue_team_event(
        &self,
        subject: &str,
        kind: TeamEventKind,
        details: serde_json::Value,
    ) -> Result<(), VaultError> {
        sqlx::query(
            "INSERT INTO team_outbox (seq, event_id, at, kind, token_id, details) \
             VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM team_outbox), ?, ?, ?, ?, ?)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(unix_millis(self.now()))
        .bind(kind.as_str())
        .bind(subject)
        .bind(details.to_string())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn team_outbox_unsent(&self, limit: u32) -> Result<Vec<DeviceEvent>, VaultError> {
        let rows: Vec<(i64, String, i64, String, String, String)> = sqlx::query_as(
            "SELECT seq, event_id, at, kind, token_id, details FROM team_outbox \
             WHERE sent_at IS NULL ORDER BY seq LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(seq, event_id, at, kind, token_id, details)| {
                Ok(DeviceEvent {
                    event_id,
                    seq,
                    at,
                    kind,
                    token_id: Some(token_id),
                    details: serde_json::from_str(&details).map_err(|error| {
                        VaultError::CorruptDatabase {
                            detail: format!("a team outbox event: {error}"),
                        }
                    })?,
                })
            })
            .collect()
    }

    async fn mark_team_events_sent(&self, through_seq: i64) -> Result<(), VaultError> {
        sqlx::query("UPDATE team_outbox SET sent_at = ? WHERE seq <= ? AND sent_at IS NULL")
            .bind(unix_millis(self.now()))
            .bind(through_seq)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Events waiting to be sent, and when the last one went.
    pub async fn team_outbox_state(&self) -> Result<(u64, Option<SystemTime>), VaultError> {
        let (pending, last_sent): (i64, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM team_outbox WHERE sent_at IS NULL), \
                    (SELECT MAX(sent_at) FROM team_outbox)",
        )
        .fetch_one(self.pool())
        .await?;
        Ok((
            u64::try_from(pending).unwrap_or(0),
            last_sent.map(from_unix_millis),
        ))
    }

    /// Seals and keeps a shared token's `otpauth://` URI (replacing an earlier copy).
    async fn store_team_seed(
        &self,
        token_id: &str,
        uri: &str,
        rotated_at: Option<i64>,
    ) -> Result<(), VaultError> {
        let keys = self.keys()?;
        let seal_id = uuid::Uuid::new_v4();
        let (nonce, sealed) = keys.seal(&seal_id, uri.as_bytes())?;
        sqlx::query(
            "INSERT INTO team_seeds (token_id, seal_id, seal_version, nonce, sealed, fetched_at, rotated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (token_id) DO UPDATE SET seal_id = excluded.seal_id, \
             seal_version = excluded.seal_version, nonce = excluded.nonce, \
             sealed = excluded.sealed, fetched_at = excluded.fetched_at, \
             rotated_at = excluded.rotated_at",
        )
        .bind(token_id)
        .bind(seal_id.to_string())
        .bind(i64::from(crate::crypto::SEAL_VERSION))
        .bind(&nonce[..])
        .bind(&sealed)
        .bind(unix_millis(self.now()))
        .bind(rotated_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The kept seeds' tokens, each with the server's rotation time it was kept for.
    async fn team_seed_rotations(&self) -> Result<Vec<(String, Option<i64>)>, VaultError> {
        Ok(
            sqlx::query_as("SELECT token_id, rotated_at FROM team_seeds ORDER BY token_id")
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// The kept seed of a shared token (its `otpauth://` URI), if this device keeps
    /// one. A seal that does not open is reported as corrupt.
    pub async fn team_seed(&self, token_id: &str) -> Result<Option<Zeroizing<String>>, VaultError> {
        let keys = self.keys()?;
        let row: Option<(String, i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT seal_id, seal_version, nonce, sealed FROM team_seeds WHERE token_id = ?",
        )
        .bind(token_id)
        .fetch_optional(self.pool())
        .await?;
        let Some((seal_id, version, nonce, sealed)) = row else {
            return Ok(None);
        };
        let corrupt = || VaultError::CorruptDatabase {
            detail: format!("the kept seed of shared token {token_id}"),
        };
        let seal_id = uuid::Uuid::parse_str(&seal_id).map_err(|_| corrupt())?;
        let version = u32::try_from(version).map_err(|_| corrupt())?;
        let mut plain = keys
            .open(&seal_id, version, &nonce, &sealed)
            .ok_or_else(corrupt)?;
        String::from_utf8(std::mem::take(&mut *plain))
            .map(|uri| Some(Zeroizing::new(uri)))
            .map_err(|_| corrupt())
    }

    /// The shared tokens whose seed this device keeps, and when each was fetched.
    pub async fn team_seed_ids(&self) -> Result<Vec<(String, SystemTime)>, VaultError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT token_id, fetched_at FROM team_seeds ORDER BY token_id")
                .fetch_all(self.pool())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(token_id, at)| (token_id, from_unix_millis(at)))
            .collect())
    }

    /// Removes the kept seed of a shared token (the codes come from the server again).
    pub async fn forget_team_seed(&self, token_id: &str) -> Result<(), VaultError> {
        sqlx::query("DELETE FROM team_seeds WHERE token_id = ?")
            .bind(token_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn forget_team(&self) -> Result<(), VaultError> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM team_seeds")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM team_token_cache")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM team_link")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM team_outbox")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_links_carry_a_server_and_an_invite() {
        let link =
            JoinLink::parse("kaito://join?server=https%3A%2F%2Fkaito.example.com&invite=kin_abc")
                .unwrap();
        assert_eq!(
            (link.server.as_str(), link.invite.as_str()),
            ("https://kaito.example.com", "kin_abc")
        );
        assert!(
            !format!("{link:?}").contains("kin_abc"),
            "the invite is logged"
        );
        for bad in [
            "https://kaito.example.com/join?server=x&invite=y",
            "kaito://join?invite=kin_abc",
            "kaito://join?server=https%3A%2F%2Fa.example",
            "kaito://join?server=http%3A%2F%2Fevil.example&invite=kin_abc",
            "not a link",
        ] {
            let error = JoinLink::parse(bad).unwrap_err();
            assert!(
                matches!(error.code().as_str(), "team.bad_join_link" | "team.bad_url"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn server_addresses_are_https_or_local_http() {
        assert_eq!(
            server_url(" https://kaito.example.com/ ").unwrap(),
            "https://kaito.example.com"
        );
        assert_eq!(
            server_url("http://127.0.0.1:8787").unwrap(),
            "http://127.0.0.1:8787"
        );
        assert_eq!(
            server_url("http://localhost:8787/").unwrap(),
            "http://localhost:8787"
        );
        for bad in [
            "http://kaito.example.com",
            "kaito.example.com",
            "ftp://kaito.example.com",
            "https://kaito.example.com/?x=1",
            "",
        ] {
            assert!(
                matches!(server_url(bad), Err(TeamError::BadUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn retries_back_off_with_full_jitter_and_honour_retry_after() {
        for _ in 0..100 {
            assert!(retry_delay(0, None) <= Duration::from_secs(2));
            assert!(retry_delay(3, None) <= Duration::from_secs(16));
            assert!(retry_delay(40, None) <= Duration::from_secs(300));
            assert!(retry_delay(0, Some(Duration::from_secs(90))) >= Duration::from_secs(90));
        }
        // Full jitter spreads retries over the whole range, not near the ceiling.
        let spread: Vec<Duration> = (0..200).map(|_| retry_delay(8, None)).collect();
        assert!(spread.iter().any(|wait| *wait < Duration::from_secs(100)));
        assert!(spread.iter().any(|wait| *wait > Duration::from_secs(200)));
    }

    #[test]
    fn secrets_round_trip_and_a_damaged_entry_is_a_keychain_error() {
        let secrets = TeamSecrets {
            refresh_token: "r".to_owned(),
            device_key: "k".to_owned(),
        };
        let text = secrets.to_text().unwrap();
        assert_eq!(TeamSecrets::from_text(&text).unwrap().refresh_token, "r");
        assert_eq!(
            TeamSecrets::from_text("not json").unwrap_err().code(),
            "vault.keychain_failed"
        );
    }
}
