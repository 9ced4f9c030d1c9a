//! Retention: how long a team keeps its events, and removing older ones once
//! every SIEM sink has them (the chain's anchor moves past them). The operator
//! sets a floor no owner can go under, and a team without a sink keeps
//! everything: an owner cannot make the log forget what no SIEM has a copy of.

use kaito_api::{AuditKind, RetentionSetting};
use sqlx::Row as _;

use super::chain::{GENESIS, anchor};
use crate::error::ServerError;
use crate::ids::TeamId;
use crate::store::Store;

const DAY_MS: i64 = 86_400_000;
/// The operator's floor under every team's retention, unless they set another.
pub const MIN_RETENTION_DAYS: u32 = 90;

pub async fn retention(store: &Store, team_id: &TeamId) -> Result<RetentionSetting, ServerError> {
    let keep_days: Option<i64> =
        sqlx::query("SELECT keep_days FROM audit_retention WHERE team_id = $1")
            .bind(team_id.as_str())
            .fetch_optional(store.pool())
            .await?
            .map(|row| row.try_get("keep_days"))
            .transpose()?
            .flatten();
    Ok(RetentionSetting {
        keep_days: keep_days.and_then(|days| u32::try_from(days).ok()),
    })
}

/// Sets how long the owner's team keeps audit events (at least the operator's
/// `min_days`).
pub async fn set_retention(
    store: &Store,
    owner: &crate::accounts::Caller,
    (setting, min_days): (RetentionSetting, u32),
    now_ms: i64,
) -> Result<(), ServerError> {
    if setting
        .keep_days
        .is_some_and(|days| days < min_days.max(1) || days > 36_500)
    {
        return Err(ServerError::BadRequest(format!(
            "Keep audit events for {} to 36500 days (this server's operator keeps them at least {} days), or leave keep_days empty to keep them for ever.",
            min_days.max(1),
            min_days.max(1)
        )));
    }
    let mut tx = store.audited(owner, now_ms).await?;
    sqlx::query(
        "INSERT INTO audit_retention (team_id, keep_days, anchor_seq, anchor_hash) VALUES ($1, $2, 0, $3)
         ON CONFLICT (team_id) DO UPDATE SET keep_days = $2",
    )
    .bind(owner.team_id.as_str())
    .bind(setting.keep_days.map(i64::from))
    .bind(GENESIS)
    .execute(&mut **tx)
    .await?;
    tx.record(
        AuditKind::RetentionChanged,
        None,
        serde_json::json!({ "keep_days": setting.keep_days }),
    )
    .await?;
    tx.commit().await
}

/// Removes the events older than each team's retention (never less than
/// `min_days`) that every SIEM sink of the team has received, moving the chain's
/// anchor past them; a team without a sink keeps everything. Returns how many went.
pub async fn prune_expired(store: &Store, min_days: u32, now_ms: i64) -> Result<i64, ServerError> {
    let teams =
        sqlx::query("SELECT team_id, keep_days FROM audit_retention WHERE keep_days IS NOT NULL")
            .fetch_all(store.pool())
            .await?;
    let mut removed = 0;
    for row in teams {
        let team_id = TeamId::from_stored(row.try_get("team_id")?);
        let keep_days: i64 = row.try_get::<i64, _>("keep_days")?.max(i64::from(min_days));
        removed += prune_team(
            store,
            &team_id,
            now_ms.saturating_sub(keep_days.saturating_mul(DAY_MS)),
            now_ms,
        )
        .await?;
    }
    Ok(removed)
}

async fn prune_team(
    store: &Store,
    team_id: &TeamId,
    cutoff: i64,
    now_ms: i64,
) -> Result<i64, ServerError> {
    // The server removes them: no actor.
    let mut tx = store.audited_in(team_id, None, now_ms).await?;
    let (anchor_seq, _) = anchor(&mut **tx, team_id).await?;
    // Only a run of old events from the start: a later event with an earlier
    // clock does not let a newer one go.
    let first_kept: Option<i64> =
        sqlx::query("SELECT MIN(seq) AS seq FROM audit_events WHERE team_id = $1 AND at >= $2")
            .bind(team_id.as_str())
            .bind(cutoff)
            .fetch_one(&mut **tx)
            .await?
            .try_get("seq")?;
    let undelivered: Option<i64> =
        sqlx::query("SELECT MIN(delivered_seq) AS seq FROM siem_sinks WHERE team_id = $1")
            .bind(team_id.as_str())
            .fetch_one(&mut **tx)
            .await?
            .try_get("seq")?;
    // No sink, no copy anywhere else: nothing goes.
    let Some(delivered) = undelivered else {
        return Ok(0);
    };
    let through = first_kept.map_or(i64::MAX, |seq| seq - 1).min(delivered);
    let last = sqlx::query(
        "SELECT seq, hash FROM audit_events WHERE team_id = $1 AND seq <= $2 ORDER BY seq DESC LIMIT 1",
    )
    .bind(team_id.as_str())
    .bind(through)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(last) = last else {
        return Ok(0);
    };
    let through: i64 = last.try_get("seq")?;
    let through_hash: String = last.try_get("hash")?;
    let deleted = sqlx::query("DELETE FROM audit_events WHERE team_id = $1 AND seq <= $2")
        .bind(team_id.as_str())
        .bind(through)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    sqlx::query("UPDATE audit_retention SET anchor_seq = $1, anchor_hash = $2 WHERE team_id = $3")
        .bind(through)
        .bind(through_hash.as_str())
        .bind(team_id.as_str())
        .execute(&mut **tx)
        .await?;
    let deleted = i64::try_from(deleted).unwrap_or(i64::MAX);
    tx.record(
        AuditKind::Pruned,
        None,
        serde_json::json!({ "from_seq": anchor_seq + 1, "through_seq": through, "events": deleted }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(team = %team_id, through, deleted, "audit events past their retention removed");
    Ok(deleted)
}

/// Applies retention once an hour, for as long as the server runs.
pub async fn prune_forever(store: Store, min_days: u32) {
    let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        hourly.tick().await;
        if let Err(error) = prune_expired(&store, min_days, crate::http::now_ms()).await {
            tracing::warn!(%error, "audit retention failed; trying again in an hour");
        }
    }
}
