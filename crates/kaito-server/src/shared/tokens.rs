//! The team's shared tokens: adding one (sealed under the server key), listing
//! them with the caller's access, rotating a seed.

use crate::ids::NewId as _;
use kaito_api::SharedTokenView;
use kaito_api::{AuditKind, GrantMode};
use serde_json::json;
use sqlx::Row as _;

use super::grants::access;
use super::grants::insert_grant;
use super::notifications::notify_seed_holders;
use super::{kind_name, not_found, parse_uri};
use crate::accounts::{Caller, GrantSubject};
use crate::custody::ServerKey;
use crate::error::ServerError;
use crate::ids::TokenId;
use crate::store::Store;

/// Adds a token to the caller's team; the caller gets a seed grant to it.
pub async fn add_token(
    store: &Store,
    key: &ServerKey,
    admin: &Caller,
    uri: &str,
    now_ms: i64,
) -> Result<TokenId, ServerError> {
    let token = parse_uri(uri)?;
    let kind = kind_name(&token.kind)?;
    let token_id = TokenId::generate()?;
    let canonical_uri = kaito_core::uri::to_uri(&token);
    let (wrapped, sealed) = key.seal(token_id.as_str(), canonical_uri.as_bytes())?;
    let mut tx = store.audited(admin, now_ms).await?;
    sqlx::query(
        "INSERT INTO shared_tokens
           (id, team_id, issuer, account, kind, wrapped_key, sealed_uri, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(token_id.as_str())
    .bind(admin.team_id.as_str())
    .bind(token.issuer.as_str())
    .bind(token.account.as_str())
    .bind(kind)
    .bind(wrapped)
    .bind(sealed)
    .bind(admin.user_id.as_str())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    tx.record(
        AuditKind::TokenCreated,
        Some(token_id.as_str()),
        json!({ "issuer": token.issuer, "account": token.account }),
    )
    .await?;
    let grant_id = insert_grant(
        &mut tx,
        &token_id,
        &GrantSubject::User(admin.user_id.clone()),
        GrantMode::Seed,
        None,
        &admin.user_id,
    )
    .await?;
    tx.record(
        AuditKind::GrantCreated,
        Some(token_id.as_str()),
        json!({ "grant_id": grant_id.as_str(), "user_id": admin.user_id.as_str(), "mode": "seed" }),
    )
    .await?;
    tx.commit().await?;
    Ok(token_id)
}

/// The team's tokens the caller may use (admins and owners: all of them), each
/// with the caller's access.
pub async fn list_tokens(
    store: &Store,
    caller: &Caller,
    filter: kaito_api::TokenFilter,
    now_ms: i64,
) -> Result<Vec<SharedTokenView>, ServerError> {
    let manages = caller.role >= kaito_api::Role::Admin;
    if filter.needs_rotation && !manages {
        return Err(ServerError::Forbidden {
            have: caller.role,
            need: kaito_api::Role::Admin,
        });
    }
    let rows = sqlx::query(
        "SELECT id, issuer, account, kind, rotated_at, needs_rotation_since FROM shared_tokens
         WHERE team_id = $1 AND ($2 = 0 OR needs_rotation_since IS NOT NULL)
         ORDER BY issuer, account, id",
    )
    .bind(caller.team_id.as_str())
    .bind(i64::from(filter.needs_rotation))
    .fetch_all(store.pool())
    .await?;
    let mut views = Vec::new();
    for row in &rows {
        let token_id: String = row.try_get("id")?;
        let access = access(store, caller, &token_id, now_ms).await?;
        if access.is_some() || manages {
            views.push(SharedTokenView {
                token_id,
                issuer: row.try_get("issuer")?,
                account: row.try_get("account")?,
                kind: row.try_get("kind")?,
                access,
                rotated_at: row.try_get("rotated_at")?,
                needs_rotation_since: if manages {
                    row.try_get("needs_rotation_since")?
                } else {
                    None
                },
            });
        }
    }
    Ok(views)
}

/// Replaces a token's seed (the service's 2FA was reset); existing grants keep
/// applying to the new seed.
pub async fn rotate(
    store: &Store,
    key: &ServerKey,
    admin: &Caller,
    token_id: &str,
    uri: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let token = parse_uri(uri)?;
    kind_name(&token.kind)?;
    let (wrapped, sealed) = key.seal(token_id, kaito_core::uri::to_uri(&token).as_bytes())?;
    let mut tx = store.audited(admin, now_ms).await?;
    let updated = sqlx::query(
        "UPDATE shared_tokens SET wrapped_key = $1, sealed_uri = $2, issuer = $3, account = $4, rotated_at = $5,
           needs_rotation_since = NULL
         WHERE id = $6 AND team_id = $7",
    )
    .bind(wrapped)
    .bind(sealed)
    .bind(token.issuer.as_str())
    .bind(token.account.as_str())
    .bind(now_ms)
    .bind(token_id)
    .bind(admin.team_id.as_str())
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(not_found(token_id));
    }
    let notified = notify_seed_holders(&mut tx, admin, token_id, &token, now_ms).await?;
    tx.record(
        AuditKind::TokenRotated,
        Some(token_id),
        json!({ "notified": notified }),
    )
    .await?;
    tx.commit().await
}
