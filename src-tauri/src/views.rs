//! What the UI receives. These types cross the IPC boundary, so they derive `TS` and
//! the UI's TypeScript types are generated from them. No view ever carries a seed.

use std::time::{SystemTime, UNIX_EPOCH};

use kaito_core::{Algorithm, CodeGenerator, OtpKind, Token};
use kaito_vault::StoredToken;
use serde::Serialize;

/// "totp" | "hotp" | "steam".
#[derive(Debug, Clone, Copy, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum TokenKind {
    Totp,
    Hotp,
    Steam,
}

/// The codes of one token at one instant.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CodeView {
    pub current: String,
    /// The code of the next period; absent for HOTP, whose codes change on use.
    pub next: Option<String>,
    /// Seconds until `current` expires (TOTP/Steam).
    pub remaining_secs: Option<u32>,
    pub period: Option<u32>,
}

/// One token as the list shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TokenView {
    pub id: String,
    pub issuer: String,
    pub account: String,
    pub kind: TokenKind,
    pub algorithm: String,
    pub digits: u32,
    pub group: Option<String>,
    pub favorite: bool,
    /// Absent when the seed could not be decrypted; `code_error` says why.
    pub code: Option<CodeView>,
    pub code_error: Option<String>,
}

/// A token parsed from a URI or form and waiting for the "verify the first code" step.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PendingTokenView {
    pub pending_id: String,
    pub issuer: String,
    pub account: String,
    pub kind: TokenKind,
    pub algorithm: String,
    pub digits: u32,
    pub code: CodeView,
    /// Bits of secret; under 128 earns a gentle warning in the UI.
    pub secret_bits: u32,
}

/// What `delete_token` returns so the UI can offer "Undo".
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DeletedToken {
    pub id: String,
    /// Milliseconds since the Unix epoch; hand back to `undo_delete`.
    pub deleted_at_ms: f64,
}

pub fn kind_of(kind: OtpKind) -> TokenKind {
    match kind {
        OtpKind::Totp { .. } => TokenKind::Totp,
        OtpKind::Hotp { .. } => TokenKind::Hotp,
        OtpKind::Steam { .. } => TokenKind::Steam,
    }
}

pub fn algorithm_name(algorithm: Algorithm) -> String {
    algorithm.name().to_owned()
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Current (and next) code of a generator at `unix_secs`.
pub fn code_view(generator: &CodeGenerator, unix_secs: u64) -> CodeView {
    match generator.window(unix_secs) {
        Some(window) => CodeView {
            current: window.current.to_string(),
            next: Some(window.next.to_string()),
            remaining_secs: Some(window.remaining_secs),
            period: Some(window.period),
        },
        None => CodeView {
            current: generator.code_at(unix_secs).to_string(),
            next: None,
            remaining_secs: None,
            period: None,
        },
    }
}

pub fn token_view(stored: &StoredToken, code: Result<CodeView, String>) -> TokenView {
    let (code, code_error) = match code {
        Ok(view) => (Some(view), None),
        Err(message) => (None, Some(message)),
    };
    TokenView {
        id: stored.id.to_string(),
        issuer: stored.issuer.clone(),
        account: stored.account.clone(),
        kind: kind_of(stored.kind),
        algorithm: algorithm_name(stored.algorithm),
        digits: stored.digits,
        group: stored.group.clone(),
        favorite: stored.favorite,
        code,
        code_error,
    }
}

pub fn pending_view(pending_id: &str, token: &Token, unix_secs: u64) -> PendingTokenView {
    PendingTokenView {
        pending_id: pending_id.to_owned(),
        issuer: token.issuer.clone(),
        account: token.account.clone(),
        kind: kind_of(token.kind),
        algorithm: algorithm_name(token.algorithm),
        digits: token.digits,
        code: code_view(&CodeGenerator::new(token), unix_secs),
        secret_bits: u32::try_from(token.secret.bits()).unwrap_or(u32::MAX),
    }
}
