//! The team's audit log, its pull API and checkpoints.

use serde::{Deserialize, Serialize};

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

/// `GET`/`PUT /v1/audit/retention`: how many days audit events are kept (`None`:
/// for ever). Events are removed only once every sink has received them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionSetting {
    pub keep_days: Option<u32>,
}

/// The query of `GET /v1/audit/events`: a page by seq, optionally filtered. Empty
/// texts (a form's `?kind=`) mean "any".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct EventPage {
    /// Events after this seq.
    #[serde(default)]
    pub after: i64,
    #[serde(default = "default_page")]
    #[cfg_attr(feature = "openapi", param(default = default_page))]
    pub limit: i64,
    /// Only this kind (`code.served`), or every kind under a prefix ending in `.` (`code.`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Only events by this user (or device) id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Only events about this subject (a token, user, group… id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Only events at or after this time (Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    /// Only events before this time (Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
}

impl Default for EventPage {
    fn default() -> Self {
        Self {
            after: 0,
            limit: default_page(),
            kind: None,
            actor: None,
            subject: None,
            from: None,
            to: None,
        }
    }
}

fn default_page() -> i64 {
    100
}
