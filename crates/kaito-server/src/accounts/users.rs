//! Members: creating a team with its owner, adding and disabling members, and
//! reading who is in the team.

use crate::ids::NewId as _;
use kaito_api::{AuditKind, MeView, MemberView, Role};
use sqlx::Row as _;

use super::{Caller, normalise_email, role_of};
use crate::audited::Audited;
use crate::error::ServerError;
use crate::ids::{TeamId, UserId};
use crate::password_work::NewPasswordHash;
use crate::store::{Backend, Store};

/// A new team and its owner (the bootstrap of `kaito-server admin create`).
pub async fn create_team_with_owner(
    store: &Store,
    team_name: &str,
    email: &str,
    name: &str,
    password: &NewPasswordHash,
    now_ms: i64,
) -> Result<(TeamId, UserId), ServerError> {
    let team_id = TeamId::generate()?;
    // The server adds the owner: no one is signed in yet.
    let mut tx = store.audited_in(&team_id, None, now_ms).await?;
    sqlx::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(team_id.as_str())
        .bind(team_name.trim())
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    // The operator may know which team holds an email.
    let user_id = insert_user(&mut tx, (email, name, Role::Owner), password)
        .await
        .map_err(|error| match error {
            ServerError::EmailUnavailable => ServerError::EmailTaken(email.trim().to_lowercase()),
            other => other,
        })?;
    tx.commit().await?;
    Ok((team_id, user_id))
}

/// A new member of the admin's team with `role`.
pub async fn create_user(
    store: &Store,
    admin: &Caller,
    (email, name, role): (&str, &str, Role),
    password: &NewPasswordHash,
    now_ms: i64,
) -> Result<UserId, ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let user_id = insert_user(&mut tx, (email, name, role), password).await?;
    tx.commit().await?;
    Ok(user_id)
}

/// A new member of `tx`'s team, added by `tx`'s actor. The password was hashed
/// before `tx` began ([`crate::password_work`]).
pub(crate) async fn insert_user(
    tx: &mut Audited<'_>,
    (email, name, role): (&str, &str, Role),
    password: &NewPasswordHash,
) -> Result<UserId, ServerError> {
    let email = normalise_email(email)?;
    let taken_in: Option<String> = sqlx::query_scalar("SELECT team_id FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(&mut ***tx)
        .await?;
    match taken_in {
        Some(team) if team == tx.team_id().as_str() => return Err(ServerError::EmailTaken(email)),
        // Another team's: said without saying so, as far as a direct add can.
        Some(_) => return Err(ServerError::EmailUnavailable),
        None => {}
    }
    let user_id = UserId::generate()?;
    sqlx::query(
        "INSERT INTO users (id, team_id, email, name, role, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(user_id.as_str())
    .bind(tx.team_id().as_str())
    .bind(email.as_str())
    .bind(name.trim())
    .bind(role.as_str())
    .bind(password.as_str())
    .bind(tx.at_ms())
    .execute(&mut ***tx)
    .await?;
    tx.record(
        AuditKind::MemberAdded,
        Some(user_id.as_str()),
        serde_json::json!({ "email": email, "role": role.as_str() }),
    )
    .await?;
    Ok(user_id)
}

pub async fn me(store: &Store, caller: &Caller) -> Result<MeView, ServerError> {
    let row = sqlx::query(
        "SELECT u.email, u.name, u.role, t.id AS team_id, t.name AS team_name
         FROM users u JOIN teams t ON t.id = u.team_id WHERE u.id = $1",
    )
    .bind(caller.user_id.as_str())
    .fetch_one(store.pool())
    .await?;
    Ok(MeView {
        user_id: caller.user_id.to_string(),
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: role_of(&row.try_get::<String, _>("role")?)?,
        team_id: row.try_get("team_id")?,
        team_name: row.try_get("team_name")?,
    })
}

pub async fn members(store: &Store, team_id: &TeamId) -> Result<Vec<MemberView>, ServerError> {
    let rows = sqlx::query(
        "SELECT u.id, u.email, u.name, u.role, u.disabled_at, m.confirmed_at AS mfa_at
         FROM users u LEFT JOIN mfa_totp m ON m.user_id = u.id AND m.confirmed_at IS NOT NULL
         WHERE u.team_id = $1 ORDER BY u.email",
    )
    .bind(team_id.as_str())
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(MemberView {
                user_id: row.try_get("id")?,
                email: row.try_get("email")?,
                name: row.try_get("name")?,
                role: role_of(&row.try_get::<String, _>("role")?)?,
                disabled: row.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
                mfa: row.try_get::<Option<i64>, _>("mfa_at")?.is_some(),
            })
        })
        .collect()
}

/// Disables a member of the caller's team: their sessions end at once.
pub async fn disable_user(
    store: &Store,
    admin: &Caller,
    user_id: &UserId,
    now_ms: i64,
) -> Result<(), ServerError> {
    let team_id = &admin.team_id;
    let mut tx = store.audited(admin, now_ms).await?;
    let not_found = || ServerError::NotFound(format!("No active member {user_id} in your team."));
    let target_role: String = sqlx::query_scalar(
        "SELECT role FROM users WHERE id = $1 AND team_id = $2 AND disabled_at IS NULL",
    )
    .bind(user_id.as_str())
    .bind(team_id.as_str())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(not_found)?;
    let target_role = role_of(&target_role)?;
    super::may_act_on(admin, target_role)?;
    if target_role == Role::Owner {
        keep_an_owner(store, &mut tx, user_id, "disabled").await?;
    }
    let updated = sqlx::query(
        "UPDATE users SET disabled_at = $1 WHERE id = $2 AND team_id = $3 AND disabled_at IS NULL",
    )
    .bind(now_ms)
    .bind(user_id.as_str())
    .bind(team_id.as_str())
    .execute(&mut **tx)
    .await?;
    // Another request may have disabled them since the read (PostgreSQL).
    if updated.rows_affected() == 0 {
        return Err(not_found());
    }
    end_sessions(&mut tx, user_id).await?;
    // What they set up keeps no door open: in this transaction, with the event.
    let api_tokens_revoked = crate::api_tokens::revoke_made_by(&mut tx, user_id).await?;
    let invites_revoked = crate::invites::revoke_made_by(&mut tx, user_id).await?;
    let sinks_held = crate::siem::hold_made_by(&mut tx, user_id).await?;
    // Before the group memberships go: seeds reached through a group count too.
    let tokens_to_rotate = mark_seeds_to_rotate(&mut tx, user_id).await?;
    let at_ms = tx.at_ms();
    let devices_revoked: Vec<String> = sqlx::query_scalar(
        "UPDATE devices SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL RETURNING id",
    )
    .bind(at_ms)
    .bind(user_id.as_str())
    .fetch_all(&mut **tx)
    .await?;
    let groups_left: Vec<String> =
        sqlx::query_scalar("DELETE FROM group_members WHERE user_id = $1 RETURNING group_id")
            .bind(user_id.as_str())
            .fetch_all(&mut **tx)
            .await?;
    tx.record(
        AuditKind::MemberDisabled,
        Some(user_id.as_str()),
        serde_json::json!({
            "api_tokens_revoked": api_tokens_revoked,
            "invites_revoked": invites_revoked,
            "sinks_held": sinks_held,
            "tokens_to_rotate": tokens_to_rotate,
            "devices_revoked": devices_revoked,
            "groups_left": groups_left,
        }),
    )
    .await?;
    tx.commit().await
}

/// Marks the tokens whose seed `user_id` could fetch (a live full-seed grant, to
/// them or a group of theirs) as needing rotation: they may have kept a copy.
/// Answers the ids.
async fn mark_seeds_to_rotate(
    tx: &mut Audited<'_>,
    user_id: &UserId,
) -> Result<Vec<String>, ServerError> {
    let at_ms = tx.at_ms();
    let team_id = tx.team_id().as_str().to_owned();
    let tokens: Vec<String> = sqlx::query_scalar(
        "UPDATE shared_tokens SET needs_rotation_since = COALESCE(needs_rotation_since, $1)
         WHERE team_id = $2 AND id IN (
           SELECT token_id FROM grants
           WHERE mode = 'seed' AND (expires_at IS NULL OR expires_at > $1)
             AND (user_id = $3
                  OR group_id IN (SELECT group_id FROM group_members WHERE user_id = $3)))
         RETURNING id",
    )
    .bind(at_ms)
    .bind(team_id)
    .bind(user_id.as_str())
    .fetch_all(&mut ***tx)
    .await?;
    Ok(tokens)
}

/// Ends every session of `user_id` at `tx`'s time: their access and refresh
/// tokens stop working with the next request.
pub(crate) async fn end_sessions(
    tx: &mut Audited<'_>,
    user_id: &UserId,
) -> Result<(), ServerError> {
    let at_ms = tx.at_ms();
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(at_ms)
        .bind(user_id.as_str())
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// Lets a disabled member of the owner's team sign in again (their old sessions
/// stay ended). Owners only: the route's guard checks.
pub async fn enable_user(
    store: &Store,
    owner: &Caller,
    user_id: &UserId,
    now_ms: i64,
) -> Result<(), ServerError> {
    enable_in(store.audited(owner, now_ms).await?, user_id).await
}

/// [`enable_user`] as `tx`'s actor (an owner, or the operator from the shell).
pub(super) async fn enable_in(mut tx: Audited<'_>, user_id: &UserId) -> Result<(), ServerError> {
    let team_id = tx.team_id();
    let disabled: Option<Option<i64>> =
        sqlx::query_scalar("SELECT disabled_at FROM users WHERE id = $1 AND team_id = $2")
            .bind(user_id.as_str())
            .bind(team_id.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    match disabled {
        None => {
            return Err(ServerError::NotFound(format!(
                "No member {user_id} in your team."
            )));
        }
        Some(None) => {
            return Err(ServerError::Conflict(format!("{user_id} is not disabled.")));
        }
        Some(Some(_)) => {}
    }
    sqlx::query("UPDATE users SET disabled_at = NULL WHERE id = $1 AND team_id = $2")
        .bind(user_id.as_str())
        .bind(team_id.as_str())
        .execute(&mut **tx)
        .await?;
    tx.record(
        AuditKind::MemberEnabled,
        Some(user_id.as_str()),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await
}

/// Gives a member of the owner's team another role. The last active owner cannot
/// be demoted: someone must always be able to undo a rogue admin.
pub async fn set_role(
    store: &Store,
    owner: &Caller,
    user_id: &UserId,
    role: Role,
    now_ms: i64,
) -> Result<(), ServerError> {
    set_role_in(store, store.audited(owner, now_ms).await?, user_id, role).await
}

/// [`set_role`] as `tx`'s actor (an owner, or the operator from the shell).
pub(super) async fn set_role_in(
    store: &Store,
    mut tx: Audited<'_>,
    user_id: &UserId,
    role: Role,
) -> Result<(), ServerError> {
    let team_id = tx.team_id();
    let current: String =
        sqlx::query_scalar("SELECT role FROM users WHERE id = $1 AND team_id = $2")
            .bind(user_id.as_str())
            .bind(team_id.as_str())
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| ServerError::NotFound(format!("No member {user_id} in your team.")))?;
    let current = role_of(&current)?;
    if current == role {
        return Err(ServerError::Conflict(format!(
            "{user_id} is already {}.",
            role.as_str()
        )));
    }
    if current == Role::Owner {
        keep_an_owner(store, &mut tx, user_id, "demoted").await?;
    }
    sqlx::query("UPDATE users SET role = $1 WHERE id = $2 AND team_id = $3")
        .bind(role.as_str())
        .bind(user_id.as_str())
        .bind(team_id.as_str())
        .execute(&mut **tx)
        .await?;
    tx.record(
        AuditKind::MemberRoleChanged,
        Some(user_id.as_str()),
        serde_json::json!({ "from": current.as_str(), "to": role.as_str() }),
    )
    .await?;
    tx.commit().await
}

/// Refuses to take away `user_id`'s ownership (`what`: "disabled", "demoted") when
/// no other active owner would remain. On PostgreSQL the owners' rows are locked
/// first, so two owners removing each other at once cannot both pass the count
/// (SQLite has one writer anyway).
async fn keep_an_owner(
    store: &Store,
    tx: &mut Audited<'_>,
    user_id: &UserId,
    what: &str,
) -> Result<(), ServerError> {
    let team_id = tx.team_id();
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT id FROM users WHERE team_id = $1 AND role = 'owner' FOR UPDATE")
            .bind(team_id.as_str())
            .fetch_all(&mut ***tx)
            .await?;
    }
    let other_owners: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users
         WHERE team_id = $1 AND role = 'owner' AND disabled_at IS NULL AND id <> $2",
    )
    .bind(team_id.as_str())
    .bind(user_id.as_str())
    .fetch_one(&mut ***tx)
    .await?;
    if other_owners == 0 {
        return Err(ServerError::BadRequest(format!(
            "The team's last active owner cannot be {what}: make another member an owner first."
        )));
    }
    Ok(())
}
