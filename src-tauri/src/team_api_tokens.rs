//! The Admin page's API tokens: the list (with maker, last use and whether each
//! still works), a new one shown once, revoking. Thin adapters over the team
//! client; the server checks the role.

use kaito_api::NewApiToken;
use kaito_team::TeamClient;
use serde::Serialize;

use crate::IpcError;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ApiTokenRow {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_by_email: String,
    #[ts(type = "number")]
    pub created_at_ms: i64,
    #[ts(type = "number | null")]
    pub expires_at_ms: Option<i64>,
    #[ts(type = "number | null")]
    pub last_used_at_ms: Option<i64>,
    /// Not revoked, not expired, and its maker not disabled.
    pub active: bool,
}

/// A new API token: the secret, shown this once.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CreatedApiTokenRow {
    pub id: String,
    pub token: String,
}

pub async fn list(client: &TeamClient) -> Result<Vec<ApiTokenRow>, IpcError> {
    Ok(client
        .api_tokens()
        .await?
        .into_iter()
        .map(|token| ApiTokenRow {
            id: token.id,
            name: token.name,
            scopes: token.scopes,
            created_by_email: token.created_by_email,
            created_at_ms: token.created_at,
            expires_at_ms: token.expires_at,
            last_used_at_ms: token.last_used_at,
            active: token.active,
        })
        .collect())
}

/// A SIEM's `audit:read` token named `name`, until `expires_at_ms` if given.
pub async fn create(
    client: &TeamClient,
    name: &str,
    expires_at_ms: Option<i64>,
) -> Result<CreatedApiTokenRow, IpcError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(crate::team_admin::invalid(
            "Name the token after what will use it.",
        ));
    }
    let created = client
        .create_api_token(&NewApiToken {
            name: name.to_owned(),
            scopes: vec!["audit:read".to_owned()],
            expires_at: expires_at_ms,
        })
        .await?;
    Ok(CreatedApiTokenRow {
        id: created.id,
        token: created.token,
    })
}
