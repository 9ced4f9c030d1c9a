//! Grants: who may use a token, as codes only or with its seed.

use crate::ids::NewId as _;
use kaito_api::{AuditKind, GrantMode};
use kaito_api::{GrantView, NewGrant};
use serde_json::json;
use sqlx::Row as _;

use super::not_found;
use crate::accounts::{Caller, GrantSubject};
use crate::audited::Audited;
use crate::error::ServerError;
use crate::ids::{GrantId, TeamId, TokenId, UserId};
use crate::store::Store;

/// A grant by `created_by`, made at `tx`'s time.
pub(super) async fn insert_grant(
    tx: &mut Audited<'_>,
    token_id: &TokenId,
    subject: &GrantSubject,
    mode: GrantMode,
    expires_at: Option<i64>,
    created_by: &UserId,
) -> Result<GrantId, ServerError> {
    let grant_id = GrantId::generate()?;
    sqlx::query(
        "INSERT INTO grants (id, token_id, user_id, group_id, mode, expires_at, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(grant_id.as_str())
    .bind(token_id.as_str())
    .bind(subject.user_id())
    .bind(subject.group_id())
    .bind(mode.as_str())
    .bind(expires_at)
    .bind(created_by.as_str())
    .bind(tx.at_ms())
    .execute(&mut ***tx)
    .await?;
    Ok(grant_id)
}

/// The caller's best live grant to `token_id` (directly or through a group).
pub async fn access(
    store: &Store,
    caller: &Caller,
    token_id: &str,
    now_ms: i64,
) -> Result<Option<GrantMode>, ServerError> {
    let rows = sqlx::query(
        "SELECT g.mode FROM grants g JOIN shared_tokens t ON t.id = g.token_id
         WHERE g.token_id = $1 AND t.team_id = $2
           AND (g.expires_at IS NULL OR g.expires_at > $3)
           AND (g.user_id = $4
                OR g.group_id IN (SELECT group_id FROM group_members WHERE user_id = $4))",
    )
    .bind(token_id)
    .bind(caller.team_id.as_str())
    .bind(now_ms)
    .bind(caller.user_id.as_str())
    .fetch_all(store.pool())
    .await?;
    let mut best = None;
    for row in &rows {
        let mode = GrantMode::parse(&row.try_get::<String, _>("mode")?)
            .ok_or_else(|| ServerError::Corrupt("unknown grant mode".to_owned()))?;
        best = best.max(Some(mode));
    }
    Ok(best)
}

/// Grants a token of the admin's team to a user or group of that team.
/// An admin may not give themselves a token's seed, directly or through a group
/// they are in: taking every seed of the team would then need no one else. Owners
/// may (someone must be able to rotate every token).
async fn refuse_own_seed_grant(
    tx: &mut Audited<'_>,
    admin: &Caller,
    subject: &GrantSubject,
) -> Result<(), ServerError> {
    if admin.role == kaito_api::Role::Owner {
        return Ok(());
    }
    let own = match subject {
        GrantSubject::User(user) => *user == admin.user_id,
        GrantSubject::Group(group) => {
            sqlx::query("SELECT 1 AS found FROM group_members WHERE group_id = $1 AND user_id = $2")
                .bind(group.as_str())
                .bind(admin.user_id.as_str())
                .fetch_optional(&mut ***tx)
                .await?
                .is_some()
        }
    };
    if own {
        return Err(ServerError::OwnSeedGrant);
    }
    Ok(())
}

/// Whether `group_id` holds a live full-seed grant: an admin joining it would
/// give themselves seeds.
pub(crate) async fn group_holds_seeds(
    tx: &mut Audited<'_>,
    group_id: &str,
) -> Result<bool, ServerError> {
    let at_ms = tx.at_ms();
    Ok(sqlx::query(
        "SELECT 1 AS found FROM grants
         WHERE group_id = $1 AND mode = 'seed'
           AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(group_id)
    .bind(at_ms)
    .fetch_optional(&mut ***tx)
    .await?
    .is_some())
}

pub async fn grant(
    store: &Store,
    admin: &Caller,
    token_id: &str,
    request: &NewGrant,
    now_ms: i64,
) -> Result<GrantId, ServerError> {
    let subject = GrantSubject::from_ids(request.user_id.as_deref(), request.group_id.as_deref())?;
    let mut tx = store.audited(admin, now_ms).await?;
    let token_exists =
        sqlx::query("SELECT 1 AS found FROM shared_tokens WHERE id = $1 AND team_id = $2")
            .bind(token_id)
            .bind(admin.team_id.as_str())
            .fetch_optional(&mut **tx)
            .await?
            .is_some();
    if !token_exists {
        return Err(not_found(token_id));
    }
    subject.check_in_team(&mut tx, &admin.team_id).await?;
    if request.mode == GrantMode::Seed {
        refuse_own_seed_grant(&mut tx, admin, &subject).await?;
    }
    let token = TokenId::from_stored(token_id.to_owned());
    let grant_id = insert_grant(
        &mut tx,
        &token,
        &subject,
        request.mode,
        request.expires_at,
        &admin.user_id,
    )
    .await?;
    tx.record(
        AuditKind::GrantCreated,
        Some(token_id),
        json!({
            "grant_id": grant_id.as_str(),
            "user_id": subject.user_id(),
            "group_id": subject.group_id(),
            "mode": request.mode.as_str(),
            "expires_at": request.expires_at,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(grant_id)
}

/// Withdraws a grant; it stops applying at once.
pub async fn revoke_grant(
    store: &Store,
    admin: &Caller,
    grant_id: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let row = sqlx::query(
        "SELECT g.token_id FROM grants g JOIN shared_tokens t ON t.id = g.token_id WHERE g.id = $1 AND t.team_id = $2",
    )
    .bind(grant_id)
    .bind(admin.team_id.as_str())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| ServerError::NotFound(format!("No grant {grant_id} in your team.")))?;
    let token_id: String = row.try_get("token_id")?;
    sqlx::query("DELETE FROM grants WHERE id = $1")
        .bind(grant_id)
        .execute(&mut **tx)
        .await?;
    tx.record(
        AuditKind::GrantRevoked,
        Some(token_id.as_str()),
        json!({ "grant_id": grant_id }),
    )
    .await?;
    tx.commit().await
}

/// The live grants to a token of the admin's team, oldest first. Revoking deletes
/// a grant, so only expired ones need leaving out.
pub async fn grants(
    store: &Store,
    team_id: &TeamId,
    token_id: &str,
    now_ms: i64,
) -> Result<Vec<GrantView>, ServerError> {
    let token_exists =
        sqlx::query("SELECT 1 AS found FROM shared_tokens WHERE id = $1 AND team_id = $2")
            .bind(token_id)
            .bind(team_id.as_str())
            .fetch_optional(store.pool())
            .await?
            .is_some();
    if !token_exists {
        return Err(not_found(token_id));
    }
    let rows = sqlx::query(
        "SELECT id, user_id, group_id, mode, expires_at, created_at FROM grants
         WHERE token_id = $1 AND (expires_at IS NULL OR expires_at > $2)
         ORDER BY created_at, id",
    )
    .bind(token_id)
    .bind(now_ms)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let mode: String = row.try_get("mode")?;
            Ok(GrantView {
                grant_id: row.try_get("id")?,
                user_id: row.try_get("user_id")?,
                group_id: row.try_get("group_id")?,
                mode: GrantMode::parse(&mode)
                    .ok_or_else(|| ServerError::Corrupt(format!("unknown grant mode {mode}")))?,
                expires_at: row.try_get("expires_at")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}
