//! Invites by email, and joining through one.

use serde::{Deserialize, Serialize};

use crate::Role;

/// `POST /v1/team/invites` (admins; only an owner invites admins or owners).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewInvite {
    pub email: String,
    pub role: Role,
}

/// A new invite. The token is shown this once; `link` opens Kaito on it when the
/// server knows its public URL.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedInvite {
    pub id: String,
    pub token: String,
    pub link: Option<String>,
    /// Unix milliseconds.
    pub expires_at: i64,
}

debug_without_secrets!(CreatedInvite { id, expires_at });

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
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AcceptInvite {
    pub token: String,
    pub name: String,
    pub password: String,
}

debug_without_secrets!(AcceptInvite { name });
