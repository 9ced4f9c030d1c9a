//! Codes computed on the server, and seeds for seed grants; each audited before
//! it is returned.

use kaito_api::{AuditKind, GrantMode};
use kaito_api::{CodesView, SeedView};
use kaito_core::otp::CodeGenerator;
use serde_json::json;
use sqlx::Row as _;

use super::grants::access;
use super::{no_grant, not_found, parse_uri};
use crate::accounts::Caller;
use crate::custody::ServerKey;
use crate::error::ServerError;
use crate::ids::TeamId;
use crate::store::Store;

/// The token's otpauth URI, opened; only for callers already checked.
async fn open_uri(
    store: &Store,
    key: &ServerKey,
    team_id: &TeamId,
    token_id: &str,
) -> Result<zeroize::Zeroizing<Vec<u8>>, ServerError> {
    let row = sqlx::query(
        "SELECT wrapped_key, sealed_uri FROM shared_tokens WHERE id = $1 AND team_id = $2",
    )
    .bind(token_id)
    .bind(team_id.as_str())
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| not_found(token_id))?;
    let wrapped: Vec<u8> = row.try_get("wrapped_key")?;
    let sealed: Vec<u8> = row.try_get("sealed_uri")?;
    key.open(token_id, &wrapped, &sealed)
}

/// An event about a read: the read itself changes nothing, so the transaction
/// holds the event alone.
async fn record(
    store: &Store,
    caller: &Caller,
    kind: AuditKind,
    token_id: &str,
    details: serde_json::Value,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(caller, now_ms).await?;
    tx.record(kind, Some(token_id), details).await?;
    tx.commit().await
}

/// The current and next code, computed here, for any grant. Audited before the
/// codes are returned: a code nobody could account for is never shown.
pub async fn codes(
    store: &Store,
    key: &ServerKey,
    caller: &Caller,
    token_id: &str,
    now_ms: i64,
) -> Result<CodesView, ServerError> {
    let mode = access(store, caller, token_id, now_ms)
        .await?
        .ok_or_else(|| no_grant(token_id))?;
    let uri = open_uri(store, key, &caller.team_id, token_id).await?;
    let token = parse_uri(&String::from_utf8_lossy(&uri))?;
    let unix_secs = u64::try_from(now_ms / 1000).unwrap_or(0);
    let window = CodeGenerator::new(&token)
        .window(unix_secs)
        .ok_or_else(|| ServerError::Corrupt(format!("token {token_id} is not time-based")))?;
    record(
        store,
        caller,
        AuditKind::CodeServed,
        token_id,
        json!({ "grant": mode.as_str() }),
        now_ms,
    )
    .await?;
    Ok(CodesView {
        current: window.current.as_str().to_owned(),
        next: window.next.as_str().to_owned(),
        remaining_secs: window.remaining_secs,
        period: window.period,
        server_time: unix_secs,
    })
}

/// The seed, as an otpauth URI: seed grants only. Audited before it is returned.
pub async fn seed(
    store: &Store,
    key: &ServerKey,
    caller: &Caller,
    token_id: &str,
    now_ms: i64,
) -> Result<SeedView, ServerError> {
    match access(store, caller, token_id, now_ms).await? {
        Some(GrantMode::Seed) => {}
        Some(GrantMode::Code) => {
            record(
                store,
                caller,
                AuditKind::SeedRefused,
                token_id,
                json!({ "grant": "code" }),
                now_ms,
            )
            .await?;
            return Err(ServerError::CodeOnly);
        }
        None => return Err(no_grant(token_id)),
    }
    let uri = open_uri(store, key, &caller.team_id, token_id).await?;
    record(
        store,
        caller,
        AuditKind::SeedFetched,
        token_id,
        json!({}),
        now_ms,
    )
    .await?;
    Ok(SeedView {
        uri: String::from_utf8_lossy(&uri).into_owned(),
    })
}
