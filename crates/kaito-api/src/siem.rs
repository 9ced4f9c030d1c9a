//! SIEM sinks, and the API tokens SIEMs pull the audit log with.

use serde::{Deserialize, Serialize};

/// `POST /v1/api-tokens` (admins).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewApiToken {
    pub name: String,
    /// Only `audit:read` so far.
    pub scopes: Vec<String>,
    /// When the token stops working (Unix milliseconds); without it, when revoked
    /// or when the admin who made it is disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// An API token as `GET /v1/api-tokens` lists it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiTokenView {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    /// The admin who made it, by id and email.
    pub created_by: String,
    pub created_by_email: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    /// To the minute: uses within a minute of the last one are not written down.
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// Whether it works now: not revoked, not expired, and its maker not disabled.
    pub active: bool,
}

/// The new API token; its secret is shown this once.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiToken {
    pub id: String,
    pub token: String,
}

debug_without_secrets!(CreatedApiToken { id });

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

impl SinkTarget {
    /// Whether the events cross the network readable: `http://`, or syslog over
    /// plain TCP.
    #[must_use]
    pub fn is_cleartext(&self) -> bool {
        match self {
            Self::Syslog { tls, .. } => !tls,
            Self::SplunkHec { url, .. } | Self::Webhook { url } => !url
                .trim()
                .get(..8)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://")),
        }
    }
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
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewSink {
    pub name: String,
    #[serde(flatten)]
    pub target: SinkTarget,
    /// The HEC token or the webhook key; stored sealed and never shown again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The admin accepts a cleartext target (`http://`, syslog without TLS): the
    /// audit log, and a HEC token, cross the network readable. Without it such a
    /// target is refused.
    #[serde(default)]
    pub insecure: bool,
}

debug_without_secrets!(NewSink { name, target });

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
    /// Why the last attempt failed; cleared by the next success. An HTTP refusal
    /// shows only its status.
    pub last_error: Option<String>,
    /// The target is cleartext (`http://`, syslog without TLS), accepted as
    /// `insecure` when it was added.
    pub cleartext: bool,
    pub failures: i64,
    /// The admin who added it (none for sinks older than this field).
    pub created_by: Option<String>,
    /// Delivery is held since then, because the admin who added the sink was
    /// disabled: an admin checks where it points and resumes it
    /// (`POST /v1/siem/sinks/{id}/resume`) or removes it.
    pub held_at: Option<i64>,
}
