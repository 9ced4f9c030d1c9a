//! Wire types shared by the desktop app and the team server. Both sides compile
//! against these definitions so a renamed field breaks the build, not production.
//!
//! With the `openapi` feature every type is also a `utoipa` schema, so the server's
//! `/v1/openapi.json` describes exactly these definitions.

/// Version of the HTTP API; a server answers 400 to clients of a newer major version.
pub const API_VERSION: u32 = 1;

use serde::{Deserialize, Serialize};

mod kinds;
pub use kinds::*;

/// Every error answer: a stable `code` for programs, a `message` for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

/// A member's role in their team, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "member" => Some(Role::Member),
            "admin" => Some(Role::Admin),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }
}

/// `POST /v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// `POST /v1/auth/refresh` and `POST /v1/auth/logout`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// A short-lived access token (sent as `Authorization: Bearer …`) and the refresh
/// token that replaces it; each refresh token works once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenPair {
    pub access_token: String,
    pub access_expires_in_secs: u64,
    pub refresh_token: String,
}

/// `GET /v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeView {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub team_id: String,
    pub team_name: String,
}

/// One row of `GET /v1/team/members` (admins and owners).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberView {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
}

/// What a grant lets its holder do with a shared token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum GrantMode {
    /// Codes computed by the server; the seed never reaches the device.
    Code,
    /// The seed itself (for admins who rotate or move the token), and codes.
    Seed,
}

impl GrantMode {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            GrantMode::Code => "code",
            GrantMode::Seed => "seed",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "code" => Some(GrantMode::Code),
            "seed" => Some(GrantMode::Seed),
            _ => None,
        }
    }
}

/// `POST /v1/tokens` (admins): a token given by its `otpauth://` URI.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewSharedToken {
    pub uri: String,
}

/// A shared token as the caller sees it: never its seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharedTokenView {
    pub token_id: String,
    pub issuer: String,
    pub account: String,
    /// "totp" or "steam".
    pub kind: String,
    /// The caller's best live grant; `None` for an admin who manages the token
    /// without holding a grant.
    pub access: Option<GrantMode>,
    /// When the seed was last replaced (Unix milliseconds): a local copy fetched
    /// before then is stale.
    #[serde(default)]
    pub rotated_at: Option<i64>,
}

/// `GET /v1/tokens/{id}/codes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodesView {
    pub current: String,
    pub next: String,
    /// Seconds until `next` becomes current.
    pub remaining_secs: u32,
    pub period: u32,
    /// The server's clock when it computed the codes (Unix seconds).
    pub server_time: u64,
}

/// `GET /v1/tokens/{id}/seed` (full-seed grants only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeedView {
    pub uri: String,
}

/// `POST /v1/tokens/{id}/grants` (admins): exactly one of `user_id`, `group_id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewGrant {
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub group_id: Option<String>,
    pub mode: GrantMode,
    /// Unix milliseconds after which the grant no longer applies.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// One grant of `GET /v1/tokens/{id}/grants` (admins): exactly one of `user_id`,
/// `group_id` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantView {
    pub grant_id: String,
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    pub mode: GrantMode,
    /// Unix milliseconds after which the grant no longer applies; `None`: never.
    pub expires_at: Option<i64>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// One row of `GET /v1/groups` (admins and owners).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupView {
    pub group_id: String,
    pub name: String,
    /// The members' user ids, sorted; disabled members stay listed until removed.
    pub member_ids: Vec<String>,
}

/// One event of the team's audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEventView {
    pub seq: i64,
    pub event_id: String,
    /// Unix milliseconds.
    pub at: i64,
    pub actor: Option<String>,
    pub kind: String,
    pub subject: Option<String>,
    /// What the event is about, by kind; always a JSON object.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
    pub hash: String,
}

/// `GET /v1/audit/verify`: whether the chain is intact, and where it first breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainReport {
    /// Events checked (those after `pruned_through_seq`).
    pub events: i64,
    /// Events up to this seq were removed by the retention setting; the chain is
    /// checked from there on.
    #[serde(default)]
    pub pruned_through_seq: i64,
    pub head_hash: String,
    pub intact: bool,
    pub first_broken_seq: Option<i64>,
}

/// `POST /v1/audit/events`, the pull API for SIEMs: a time range to start, then the
/// `cursor` of the previous page to go on (new events keep arriving after it).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPullRequest {
    #[serde(default)]
    pub limit: Option<u32>,
    /// Unix milliseconds, inclusive.
    #[serde(default)]
    pub start_time: Option<i64>,
    /// Unix milliseconds, exclusive.
    #[serde(default)]
    pub end_time: Option<i64>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// One page of the pull API. Pass `cursor` back for the next page; with
/// `has_more` false, the same cursor later returns what arrived since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub cursor: String,
    pub has_more: bool,
    pub items: Vec<AuditEventView>,
}

/// `POST /v1/api-tokens` (admins).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewApiToken {
    pub name: String,
    /// Only `audit:read` so far.
    pub scopes: Vec<String>,
}

/// The new API token; its secret is shown this once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiToken {
    pub id: String,
    pub token: String,
}

/// `GET /v1/audit/checkpoint`: the chain head, signed by the server (Ed25519), so a
/// copy kept elsewhere proves later what the log held at that point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckpointView {
    pub team_id: String,
    pub seq: i64,
    pub head_hash: String,
    /// Unix milliseconds.
    pub at: i64,
    /// Base64 Ed25519 signature over [`checkpoint_message`].
    pub signature: String,
    /// Base64 Ed25519 public key of the server.
    pub public_key: String,
}

/// The bytes a checkpoint signature covers.
#[must_use]
pub fn checkpoint_message(team_id: &str, seq: i64, head_hash: &str, at: i64) -> String {
    format!("kaito-audit-checkpoint/v1|{team_id}|{seq}|{head_hash}|{at}")
}

/// A text message in the shared inbox, as a member allowed to read its number sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SmsMessageView {
    /// Orders messages; the live stream's event id.
    pub seq: i64,
    pub number_id: String,
    pub phone_number: String,
    pub label: String,
    pub from: String,
    pub body: String,
    /// The one-time code found in the body, digits only.
    pub code: Option<String>,
    /// Unix milliseconds.
    pub received_at: i64,
}

/// `POST /v1/devices`: a device of the signed-in member, with its Ed25519 public key
/// (base64, 32 bytes).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewDevice {
    pub name: String,
    pub public_key: String,
}

/// What a device records locally and sends later: a code seen or copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceEvent {
    /// Chosen by the device (a UUID); sending it again is harmless.
    pub event_id: String,
    /// 1, 2, 3… per device, with no gaps.
    pub seq: i64,
    /// Unix milliseconds on the device's clock.
    pub at: i64,
    /// `code.viewed`, `code.copied`, `seed.revealed` or `sms.code_copied`.
    pub kind: String,
    /// The shared token, or for `sms.code_copied` the inbox number.
    #[serde(default)]
    pub token_id: Option<String>,
    #[serde(default)]
    pub details: serde_json::Value,
}

/// `POST /v1/events:batch`, signed with the device key (`X-Kaito-Signature`: base64
/// Ed25519 over the exact body bytes).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventBatch {
    pub device_id: String,
    pub events: Vec<DeviceEvent>,
}

/// What the server did with a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchReceipt {
    pub accepted: u32,
    /// Events already received before (by `event_id`).
    pub duplicates: u32,
    /// Sequence numbers that were skipped, as `[first missing, last missing]`.
    pub gaps: Vec<[i64; 2]>,
}

/// Where a SIEM sink sends the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SinkTarget {
    /// RFC 5424 syslog over TCP, or TLS (RFC 5425), octet-counting framing.
    Syslog {
        host: String,
        port: u16,
        #[serde(default)]
        tls: bool,
        #[serde(default)]
        format: SyslogFormat,
        /// PEM certificates trusted for TLS besides the public roots (a private CA).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ca_pem: Option<String>,
    },
    /// Splunk's HTTP Event Collector: the full endpoint URL
    /// (`https://splunk:8088/services/collector/event`); the HEC token is the secret.
    SplunkHec {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index: Option<String>,
    },
    /// A JSON POST of `{team_id, events}`, signed with the secret:
    /// `X-Kaito-Signature: v1=hex(HMAC-SHA256(secret, "{X-Kaito-Timestamp}.{body}"))`.
    Webhook { url: String },
}

/// The message inside a syslog record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SyslogFormat {
    /// `ArcSight` Common Event Format.
    #[default]
    Cef,
    Json,
}

/// `POST /v1/siem/sinks` (admins).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewSink {
    pub name: String,
    #[serde(flatten)]
    pub target: SinkTarget,
    /// The HEC token or the webhook key; stored sealed and never shown again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// A sink and how its delivery goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SinkView {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub target: SinkTarget,
    /// Every event up to this seq has reached the sink at least once.
    pub delivered_seq: i64,
    /// Events in the log not yet delivered.
    pub pending: i64,
    pub last_delivered_at: Option<i64>,
    /// Why the last attempt failed; cleared by the next success.
    pub last_error: Option<String>,
    pub failures: i64,
}

/// `GET`/`PUT /v1/audit/retention`: how many days audit events are kept (`None`:
/// for ever). Events are removed only once every sink has received them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionSetting {
    pub keep_days: Option<u32>,
}

/// `POST /v1/team/invites` (admins; only an owner invites admins or owners).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewInvite {
    pub email: String,
    pub role: Role,
}

/// A new invite. The token is shown this once; `link` opens Kaito on it when the
/// server knows its public URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedInvite {
    pub id: String,
    pub token: String,
    pub link: Option<String>,
    /// Unix milliseconds.
    pub expires_at: i64,
}

/// An invite not yet used, revoked or expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InviteView {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// `POST /v1/invites/accept`: the invited person joins; answered with their first
/// tokens, signed in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AcceptInvite {
    pub token: String,
    pub name: String,
    pub password: String,
}

/// `GET /v1/notifications`: something the member should act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationView {
    pub id: String,
    /// `token.rotated`: a seed the member may hold a copy of was replaced.
    pub kind: String,
    /// What it is about (a token id).
    pub subject: Option<String>,
    pub message: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}
