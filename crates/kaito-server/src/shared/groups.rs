//! Groups of members, which grants can name.

use crate::ids::NewId as _;
use kaito_api::AuditKind;
use kaito_api::GroupView;
use serde_json::json;
use sqlx::Row as _;

use crate::accounts::Caller;
use crate::error::ServerError;
use crate::ids::{GroupId, TeamId};
use crate::store::Store;

/// A new group in the admin's team.
pub async fn create_group(
    store: &Store,
    admin: &Caller,
    name: &str,
    now_ms: i64,
) -> Result<GroupId, ServerError> {
    let group_id = GroupId::generate()?;
    let mut tx = store.audited(admin, now_ms).await?;
    let taken = sqlx::query("SELECT 1 AS found FROM groups WHERE team_id = $1 AND name = $2")
        .bind(admin.team_id.as_str())
        .bind(name.trim())
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    if taken {
        return Err(ServerError::Conflict(format!(
            "Your team has a group named “{}” already.",
            name.trim()
        )));
    }
    sqlx::query("INSERT INTO groups (id, team_id, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(group_id.as_str())
        .bind(admin.team_id.as_str())
        .bind(name.trim())
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    tx.record(
        AuditKind::GroupCreated,
        Some(group_id.as_str()),
        json!({ "name": name.trim() }),
    )
    .await?;
    tx.commit().await?;
    Ok(group_id)
}

/// Adds a member of the admin's team to one of its groups.
pub async fn add_to_group(
    store: &Store,
    admin: &Caller,
    group_id: &str,
    user_id: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let both = sqlx::query(
        "SELECT 1 AS found FROM groups g, users u
         WHERE g.id = $1 AND u.id = $2 AND g.team_id = $3 AND u.team_id = $3",
    )
    .bind(group_id)
    .bind(user_id)
    .bind(admin.team_id.as_str())
    .fetch_optional(&mut **tx)
    .await?
    .is_some();
    if !both {
        return Err(ServerError::NotFound(format!(
            "No group {group_id} with member {user_id} possible in your team."
        )));
    }
    if user_id == admin.user_id.as_str()
        && admin.role != kaito_api::Role::Owner
        && super::grants::group_holds_seeds(&mut tx, group_id).await?
    {
        return Err(ServerError::OwnSeedGrant);
    }
    sqlx::query(
        "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(group_id)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    tx.record(
        AuditKind::GroupMemberAdded,
        Some(group_id),
        json!({ "user_id": user_id }),
    )
    .await?;
    tx.commit().await
}

/// Takes a member out of a group of the admin's team: the group's grants stop
/// applying to them at once.
pub async fn remove_from_group(
    store: &Store,
    admin: &Caller,
    group_id: &str,
    user_id: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let group_in_team = sqlx::query("SELECT 1 AS found FROM groups WHERE id = $1 AND team_id = $2")
        .bind(group_id)
        .bind(admin.team_id.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    if !group_in_team {
        return Err(ServerError::NotFound(format!(
            "No group {group_id} in your team."
        )));
    }
    let removed = sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
        .bind(group_id)
        .bind(user_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(ServerError::NotFound(format!(
            "{user_id} is not a member of group {group_id}."
        )));
    }
    tx.record(
        AuditKind::GroupMemberRemoved,
        Some(group_id),
        json!({ "user_id": user_id }),
    )
    .await?;
    tx.commit().await
}

/// The groups of `team_id` with their members, by name (sorted here, so both
/// backends agree whatever PostgreSQL's collation).
pub async fn groups(store: &Store, team_id: &TeamId) -> Result<Vec<GroupView>, ServerError> {
    // One row per membership, and one for each group without members.
    let rows = sqlx::query(
        "SELECT g.id, g.name, m.user_id FROM groups g
         LEFT JOIN group_members m ON m.group_id = g.id
         WHERE g.team_id = $1",
    )
    .bind(team_id.as_str())
    .fetch_all(store.pool())
    .await?;
    let mut by_id: std::collections::HashMap<String, GroupView> = std::collections::HashMap::new();
    for row in &rows {
        let group_id: String = row.try_get("id")?;
        let name: String = row.try_get("name")?;
        let group = by_id.entry(group_id.clone()).or_insert_with(|| GroupView {
            group_id,
            name,
            member_ids: Vec::new(),
        });
        if let Some(user_id) = row.try_get::<Option<String>, _>("user_id")? {
            group.member_ids.push(user_id);
        }
    }
    let mut views: Vec<GroupView> = by_id.into_values().collect();
    for view in &mut views {
        view.member_ids.sort();
    }
    views.sort_by(|a, b| (&a.name, &a.group_id).cmp(&(&b.name, &b.group_id)));
    Ok(views)
}
