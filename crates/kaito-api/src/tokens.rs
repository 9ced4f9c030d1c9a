//! Shared tokens, their codes and seeds, grants, and notifications about them.

use serde::{Deserialize, Serialize};

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
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewSharedToken {
    pub uri: String,
}

debug_without_secrets!(NewSharedToken {});

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
    /// Since when (Unix milliseconds) the seed must be rotated: a member who held
    /// it was disabled and may have kept a copy. Shown to admins only.
    #[serde(default)]
    pub needs_rotation_since: Option<i64>,
}

/// `GET /v1/tokens?needs_rotation=true`: only the tokens whose seed must be
/// rotated (admins).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct TokenFilter {
    #[serde(default)]
    pub needs_rotation: bool,
}

/// `GET /v1/tokens/{id}/codes`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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

debug_without_secrets!(CodesView {
    remaining_secs,
    period,
    server_time
});

/// `GET /v1/tokens/{id}/seed` (full-seed grants only).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeedView {
    pub uri: String,
}

debug_without_secrets!(SeedView {});

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

/// The query of `GET /v1/notifications`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct NotificationFilter {
    /// Only those not yet read.
    #[serde(default)]
    pub unread: bool,
}
