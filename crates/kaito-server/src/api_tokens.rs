//! Tokens for programs, such as a SIEM pulling the audit log. Each has scopes and
//! belongs to a team; the secret (`kat_…`) is shown once and stored hashed.

use crate::ids::NewId as _;
use kaito_api::{AuditKind, CreatedApiToken, NewApiToken};
use serde_json::json;
use sqlx::Row as _;

use crate::accounts::Caller;
use crate::error::ServerError;
use crate::ids::{ApiTokenId, TeamId};
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
    let token_id = ApiTokenId::generate()?;
    let secret = format!("{PREFIX}{}", new_token()?.as_str());
    let mut tx = store.audited(admin, now_ms).await?;
    sqlx::query(
        "INSERT INTO api_tokens (id, team_id, name, token_hash, scopes, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(token_id.as_str())
    .bind(admin.team_id.as_str())
    .bind(request.name.trim())
    .bind(token_hash(&secret))
    .bind(request.scopes.join(" "))
    .bind(admin.user_id.as_str())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    tx.record(
        AuditKind::ApiTokenCreated,
        Some(token_id.as_str()),
        json!({ "name": request.name.trim(), "scopes": request.scopes }),
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

/// The program behind an API token, if it is live.
pub async fn authenticate(store: &Store, secret: &str) -> Result<ApiClient, ServerError> {
    let row = sqlx::query(
        "SELECT id, team_id, scopes FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash(secret))
    .fetch_optional(store.pool())
    .await?
    .ok_or(ServerError::Unauthenticated)?;
    Ok(ApiClient {
        token_id: ApiTokenId::from_stored(row.try_get("id")?),
        team_id: TeamId::from_stored(row.try_get("team_id")?),
        scopes: row
            .try_get::<String, _>("scopes")?
            .split(' ')
            .map(str::to_owned)
            .collect(),
    })
}
