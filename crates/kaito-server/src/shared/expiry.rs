//! Time-boxed grants ("seed access to this token for 4 hours"): a grant stops
//! applying at its `expires_at` (every lookup checks it), and is then removed and
//! recorded as `grant.expired` in its team's chain, so the log says when the
//! access ended and not only when it was given.

use std::time::Duration;

use kaito_api::AuditKind;
use serde_json::json;
use sqlx::Row as _;

use crate::error::ServerError;
use crate::ids::TeamId;
use crate::store::Store;

/// How often ended grants are looked for: the access itself ends on time.
pub const EXPIRY_SWEEP: Duration = Duration::from_secs(60);

/// Removes the grants whose time ended by `now_ms`, each with its event in its
/// team's chain, one transaction per team. Answers how many ended.
pub async fn expire_grants(store: &Store, now_ms: i64) -> Result<u64, ServerError> {
    let rows = sqlx::query(
        "SELECT g.id, g.token_id, g.user_id, g.group_id, g.mode, g.expires_at, t.team_id
         FROM grants g JOIN shared_tokens t ON t.id = g.token_id
         WHERE g.expires_at IS NOT NULL AND g.expires_at <= $1
         ORDER BY t.team_id, g.expires_at",
    )
    .bind(now_ms)
    .fetch_all(store.pool())
    .await?;
    let mut ended = 0;
    let mut rows = rows.iter().peekable();
    while let Some(first) = rows.peek() {
        let team_id = TeamId::from_stored(first.try_get("team_id")?);
        let mut tx = store.audited_in(&team_id, None, now_ms).await?;
        while let Some(row) = rows.next_if(|row| {
            row.try_get::<&str, _>("team_id")
                .is_ok_and(|team| team == team_id.as_str())
        }) {
            let grant_id: &str = row.try_get("id")?;
            // Gone already (revoked meanwhile, or another replica's sweep): no event.
            let removed = sqlx::query("DELETE FROM grants WHERE id = $1")
                .bind(grant_id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            if removed == 0 {
                continue;
            }
            tx.record(
                AuditKind::GrantExpired,
                Some(row.try_get::<&str, _>("token_id")?),
                json!({
                    "grant_id": grant_id,
                    "user_id": row.try_get::<Option<&str>, _>("user_id")?,
                    "group_id": row.try_get::<Option<&str>, _>("group_id")?,
                    "mode": row.try_get::<&str, _>("mode")?,
                    "expires_at": row.try_get::<i64, _>("expires_at")?,
                }),
            )
            .await?;
            ended += 1;
        }
        tx.commit_if_recorded().await?;
    }
    Ok(ended)
}

/// [`expire_grants`] every [`EXPIRY_SWEEP`], for the server's life.
pub async fn expire_grants_forever(store: Store) {
    let mut every = tokio::time::interval(EXPIRY_SWEEP);
    loop {
        every.tick().await;
        if let Err(error) = expire_grants(&store, crate::http::now_ms()).await {
            tracing::warn!(%error, "ending expired grants failed; trying again in a minute");
        }
    }
}
