//! Members' notifications: written when a seed they may hold is rotated, read
//! and marked read by the member.

use crate::ids::NewId as _;
use sqlx::Row as _;

use crate::accounts::Caller;
use crate::error::ServerError;
use crate::store::Store;

/// Tells everyone with a live full-seed grant (but the admin who rotated) that
/// their copy of the seed is now wrong. Returns whom it told.
pub(super) async fn notify_seed_holders(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    admin: &Caller,
    token_id: &str,
    token: &kaito_core::token::Token,
    now_ms: i64,
) -> Result<Vec<String>, ServerError> {
    let holders = sqlx::query(
        "SELECT id FROM users
         WHERE team_id = $1 AND disabled_at IS NULL AND id <> $2 AND id IN (
           SELECT g.user_id FROM grants g
           WHERE g.token_id = $3 AND g.mode = 'seed' AND (g.expires_at IS NULL OR g.expires_at > $4)
           UNION
           SELECT m.user_id FROM grants g JOIN group_members m ON m.group_id = g.group_id
           WHERE g.token_id = $3 AND g.mode = 'seed' AND (g.expires_at IS NULL OR g.expires_at > $4))
         ORDER BY id",
    )
    .bind(admin.team_id.as_str())
    .bind(admin.user_id.as_str())
    .bind(token_id)
    .bind(now_ms)
    .fetch_all(&mut **tx)
    .await?;
    let message = format!(
        "The seed of {} ({}) was rotated. Fetch the new seed and replace your copy; codes from the old one no longer work.",
        token.issuer, token.account
    );
    let mut notified = Vec::new();
    for row in &holders {
        let user_id: String = row.try_get("id")?;
        sqlx::query(
            "INSERT INTO notifications (id, team_id, user_id, kind, subject, message, created_at)
             VALUES ($1, $2, $3, 'token.rotated', $4, $5, $6)",
        )
        .bind(crate::ids::NotificationId::generate()?.as_str())
        .bind(admin.team_id.as_str())
        .bind(user_id.as_str())
        .bind(token_id)
        .bind(message.as_str())
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
        notified.push(user_id);
    }
    Ok(notified)
}

/// The caller's notifications, newest first (unread ones only if asked).
pub async fn notifications(
    store: &Store,
    caller: &Caller,
    unread_only: bool,
) -> Result<Vec<kaito_api::NotificationView>, ServerError> {
    let rows = sqlx::query(
        "SELECT id, kind, subject, message, created_at, read_at FROM notifications
         WHERE user_id = $1 AND ($2 = 0 OR read_at IS NULL)
         ORDER BY created_at DESC, id LIMIT 200",
    )
    .bind(caller.user_id.as_str())
    .bind(i64::from(unread_only))
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(kaito_api::NotificationView {
                id: row.try_get("id")?,
                kind: row.try_get("kind")?,
                subject: row.try_get("subject")?,
                message: row.try_get("message")?,
                created_at: row.try_get("created_at")?,
                read_at: row.try_get("read_at")?,
            })
        })
        .collect()
}

pub async fn mark_read(
    store: &Store,
    caller: &Caller,
    notification_id: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let updated = sqlx::query(
        "UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND user_id = $3",
    )
    .bind(now_ms)
    .bind(notification_id)
    .bind(caller.user_id.as_str())
    .execute(store.pool())
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(ServerError::NotFound(format!(
            "You have no notification {notification_id}."
        )));
    }
    Ok(())
}
