//! Tokens for programs, such as a SIEM pulling the audit log. Each has scopes and
//! belongs to a team; the secret (`kat_…`) is shown once and stored hashed. A
//! token works until it is revoked, expires, or the admin who made it is disabled
//! (offboarding revokes it too: [`revoke_made_by`]).

use crate::ids::NewId as _;
use kaito_api::{ApiTokenView, AuditKind, CreatedApiToken, NewApiToken};
use serde_json::json;
use sqlx::Row as _;

use crate::accounts::Caller;
use crate::audited::Audited;
use crate::error::ServerError;
use crate::ids::{ApiTokenId, TeamId, UserId};
use crate::secrets::{new_token, token_hash};
use crate::store::Store;

/// Reading the audit log (the pull API and checkpoints).
pub const AUDIT_READ: &str = "audit:read";
const KNOWN_SCOPES: [&str; 1] = [AUDIT_READ];
/// API tokens start with this, so they are told apart from session tokens (and
/// found by secret scanners).
pub const PREFIX: &str = "kat_";

/// A program acting for a team with these scopes.
#[derive(Debug, Clone)]
pub struct ApiClient {
    pub token_id: ApiTokenId,
    pub team_id: TeamId,
    pub scopes: Vec<String>,
}

pub async fn create(
    store: &Store,
    admin: &Caller,
    request: &NewApiToken,
    now_ms: i64,
) -> Result<CreatedApiToken, ServerError> {
    if request.scopes.is_empty() {
        return Err(ServerError::BadRequest(
            "An API token needs at least one scope.".to_owned(),
        ));
    }
    if let Some(unknown) = request
        .scopes
        .iter()
        .find(|scope| !KNOWN_SCOPES.contains(&scope.as_str()))
    {
        return Err(ServerError::BadRequest(format!(
            "Unknown scope “{unknown}”; known: {}.",
            KNOWN_SCOPES.join(", ")
        )));
    }
    if request
        .expires_at
        .is_some_and(|expires_at| expires_at <= now_ms)
    {
        return Err(ServerError::BadRequest(
            "The expiry must be in the future.".to_owned(),
        ));
    }
    let token_id = ApiTokenId::generate()?;
    let secret = format!("{PREFIX}{}", new_token()?.as_str());
    let mut tx = store.audited(admin, now_ms).await?;
    sqlx::query(
        "INSERT INTO api_tokens (id, team_id, name, token_hash, scopes, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(token_id.as_str())
    .bind(admin.team_id.as_str())
    .bind(request.name.trim())
    .bind(token_hash(&secret))
    .bind(request.scopes.join(" "))
    .bind(admin.user_id.as_str())
    .bind(now_ms)
    .bind(request.expires_at)
    .execute(&mut **tx)
    .await?;
    tx.record(
        AuditKind::ApiTokenCreated,
        Some(token_id.as_str()),
        json!({
            "name": request.name.trim(),
            "scopes": request.scopes,
            "expires_at": request.expires_at,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedApiToken {
        id: token_id.to_string(),
        token: secret,
    })
}

pub async fn revoke(
    store: &Store,
    admin: &Caller,
    token_id: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let revoked = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND team_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms)
    .bind(token_id)
    .bind(admin.team_id.as_str())
    .execute(&mut **tx)
    .await?;
    if revoked.rows_affected() == 0 {
        return Err(ServerError::NotFound(format!(
            "No active API token {token_id} in your team."
        )));
    }
    tx.record(AuditKind::ApiTokenRevoked, Some(token_id), json!({}))
        .await?;
    tx.commit().await
}

/// Every API token of the team, the revoked and expired ones too (newest first):
/// what an admin reviews, and finds a forgotten token with.
pub async fn list(
    store: &Store,
    team_id: &TeamId,
    now_ms: i64,
) -> Result<Vec<ApiTokenView>, ServerError> {
    let rows = sqlx::query(
        "SELECT t.id, t.name, t.scopes, t.created_by, u.email, u.disabled_at, t.created_at,
                t.expires_at, t.last_used_at, t.revoked_at
         FROM api_tokens t JOIN users u ON u.id = t.created_by
         WHERE t.team_id = $1 ORDER BY t.created_at DESC, t.id",
    )
    .bind(team_id.as_str())
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let expires_at: Option<i64> = row.try_get("expires_at")?;
            let revoked_at: Option<i64> = row.try_get("revoked_at")?;
            let maker_disabled = row.try_get::<Option<i64>, _>("disabled_at")?.is_some();
            Ok(ApiTokenView {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                scopes: scopes_of(&row.try_get::<String, _>("scopes")?),
                created_by: row.try_get("created_by")?,
                created_by_email: row.try_get("email")?,
                created_at: row.try_get("created_at")?,
                expires_at,
                last_used_at: row.try_get("last_used_at")?,
                revoked_at,
                active: revoked_at.is_none()
                    && !maker_disabled
                    && expires_at.is_none_or(|expires_at| expires_at > now_ms),
            })
        })
        .collect()
}

fn scopes_of(stored: &str) -> Vec<String> {
    stored.split(' ').map(str::to_owned).collect()
}

/// Revokes, in `tx`, every live API token `user_id` made: part of disabling them.
/// Answers the ids, for the audit event.
pub(crate) async fn revoke_made_by(
    tx: &mut Audited<'_>,
    user_id: &UserId,
) -> Result<Vec<String>, ServerError> {
    let at_ms = tx.at_ms();
    let revoked = sqlx::query_scalar(
        "UPDATE api_tokens SET revoked_at = $1
         WHERE created_by = $2 AND revoked_at IS NULL RETURNING id",
    )
    .bind(at_ms)
    .bind(user_id.as_str())
    .fetch_all(&mut ***tx)
    .await?;
    Ok(revoked)
}

/// Uses closer together than this are one "last used" (no write per request).
const LAST_USED_PRECISION_MS: i64 = 60_000;

/// The program behind an API token, if it is live: not revoked, not expired, and
/// made by an admin who is not disabled.
pub async fn authenticate(
    store: &Store,
    secret: &str,
    now_ms: i64,
) -> Result<ApiClient, ServerError> {
    let row = sqlx::query(
        "SELECT t.id, t.team_id, t.scopes, t.last_used_at
         FROM api_tokens t JOIN users u ON u.id = t.created_by
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL
           AND (t.expires_at IS NULL OR t.expires_at > $2)",
    )
    .bind(token_hash(secret))
    .bind(now_ms)
    .fetch_optional(store.pool())
    .await?
    .ok_or(ServerError::Unauthenticated)?;
    let token_id = ApiTokenId::from_stored(row.try_get("id")?);
    let last_used_at: Option<i64> = row.try_get("last_used_at")?;
    if last_used_at.is_none_or(|last| last + LAST_USED_PRECISION_MS <= now_ms) {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(token_id.as_str())
            .execute(store.pool())
            .await?;
    }
    Ok(ApiClient {
        token_id,
        team_id: TeamId::from_stored(row.try_get("team_id")?),
        scopes: scopes_of(&row.try_get::<String, _>("scopes")?),
    })
}
