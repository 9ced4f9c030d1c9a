//! Server-managed shared tokens. Admins add a token (its seed sealed under the
//! server key) and grant it to users or groups: a **code** grant gets codes the
//! server computes — the seed never leaves the server for them — and a **seed**
//! grant may fetch the seed itself, for rotation. Every code served, seed fetched
//! and grant changed is in the team's audit log, committed with the action.

mod codes;
mod expiry;
mod grants;
mod groups;
mod notifications;
mod tokens;

use kaito_core::token::OtpKind;

use crate::error::ServerError;

pub use codes::{codes, seed};
pub use expiry::{EXPIRY_SWEEP, expire_grants, expire_grants_forever};
pub use grants::{access, grant, grants, revoke_grant};
pub use groups::{add_to_group, create_group, groups, remove_from_group};
pub use notifications::{mark_read, notifications};
pub use tokens::{add_token, list_tokens, rotate};

fn kind_name(kind: &OtpKind) -> Result<&'static str, ServerError> {
    match kind {
        OtpKind::Totp { .. } => Ok("totp"),
        OtpKind::Steam { .. } => Ok("steam"),
        // A shared counter would need every use to go through the server in order.
        OtpKind::Hotp { .. } => Err(ServerError::BadRequest(
            "Counter-based (HOTP) tokens cannot be shared; only time-based ones.".to_owned(),
        )),
    }
}

fn parse_uri(uri: &str) -> Result<kaito_core::token::Token, ServerError> {
    kaito_core::uri::parse(uri.trim()).map_err(|error| {
        ServerError::BadRequest(format!("This is not a usable otpauth:// link: {error}"))
    })
}

fn not_found(token_id: &str) -> ServerError {
    ServerError::NotFound(format!("No shared token {token_id} in your team."))
}

fn no_grant(token_id: &str) -> ServerError {
    ServerError::NoGrant(format!("You have no grant to token {token_id}."))
}
