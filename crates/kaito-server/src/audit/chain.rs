//! The chain itself: appending an event inside the action's transaction, and the
//! team's head and anchor.

use crate::ids::NewId as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

use crate::error::ServerError;
use crate::ids::TeamId;
use crate::store::Store;

/// The `prev_hash` of a team's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub kind: &'a str,
    /// The user (or device) who acted; `None` for the server itself.
    pub actor: Option<&'a str>,
    /// What it was done to (a token, a user, a grant).
    pub subject: Option<&'a str>,
    pub details: serde_json::Value,
}

/// The hashed form: fields in this fixed order, `details` as stored text. Any
/// change here is a new chain format (the hashes of old events would not match).
#[derive(Serialize)]
pub(super) struct Canonical<'a> {
    pub(super) team_id: &'a str,
    pub(super) seq: i64,
    pub(super) event_id: &'a str,
    pub(super) at: i64,
    pub(super) actor: Option<&'a str>,
    pub(super) kind: &'a str,
    pub(super) subject: Option<&'a str>,
    pub(super) details: &'a str,
}

pub(super) fn chain_hash(
    prev_hash: &str,
    canonical: &Canonical<'_>,
) -> Result<String, ServerError> {
    let body = serde_json::to_vec(canonical)
        .map_err(|error| ServerError::Corrupt(format!("an event does not serialise: {error}")))?;
    let digest = Sha256::new()
        .chain_update(prev_hash.as_bytes())
        .chain_update(&body)
        .finalize();
    Ok(crate::secrets::hex(&digest))
}

/// Appends `event` to the chain of `team_id` inside `tx`, so the event and the
/// action it records commit together or not at all. Returns its sequence number.
pub async fn append(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    team_id: &TeamId,
    event: &NewEvent<'_>,
    now_ms: i64,
) -> Result<i64, ServerError> {
    let event_id = crate::ids::EventId::generate()?;
    append_with_id(tx, team_id, event_id.as_str(), event, now_ms).await
}

/// As [`append`], with an id the sender chose (devices: resending is harmless).
pub async fn append_with_id(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    team_id: &TeamId,
    event_id: &str,
    event: &NewEvent<'_>,
    now_ms: i64,
) -> Result<i64, ServerError> {
    sqlx::query(
        "INSERT INTO audit_heads (team_id, seq, head_hash) VALUES ($1, 0, $2)
         ON CONFLICT (team_id) DO NOTHING",
    )
    .bind(team_id.as_str())
    .bind(GENESIS)
    .execute(&mut **tx)
    .await?;
    // Updating the head first locks it: concurrent appenders to one team queue here.
    let head = sqlx::query(
        "UPDATE audit_heads SET seq = seq + 1 WHERE team_id = $1 RETURNING seq, head_hash",
    )
    .bind(team_id.as_str())
    .fetch_one(&mut **tx)
    .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev_hash: String = head.try_get("head_hash")?;
    let details = event.details.to_string();
    let hash = chain_hash(
        &prev_hash,
        &Canonical {
            team_id: team_id.as_str(),
            seq,
            event_id,
            at: now_ms,
            actor: event.actor,
            kind: event.kind,
            subject: event.subject,
            details: &details,
        },
    )?;
    sqlx::query(
        "INSERT INTO audit_events
           (team_id, seq, event_id, at, actor, kind, subject, details, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(team_id.as_str())
    .bind(seq)
    .bind(event_id)
    .bind(now_ms)
    .bind(event.actor)
    .bind(event.kind)
    .bind(event.subject)
    .bind(details.as_str())
    .bind(prev_hash.as_str())
    .bind(hash.as_str())
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_heads SET head_hash = $1 WHERE team_id = $2")
        .bind(hash.as_str())
        .bind(team_id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(seq)
}

/// The newest event's seq and hash (0 and [`GENESIS`] for a team without events).
pub(crate) async fn head(store: &Store, team_id: &TeamId) -> Result<(i64, String), ServerError> {
    let row = sqlx::query("SELECT seq, head_hash FROM audit_heads WHERE team_id = $1")
        .bind(team_id.as_str())
        .fetch_optional(store.pool())
        .await?;
    Ok(match row {
        Some(row) => (row.try_get("seq")?, row.try_get("head_hash")?),
        None => (0, GENESIS.to_owned()),
    })
}

/// Where the team's chain starts: after the events retention removed (seq 0 and
/// [`GENESIS`] when none were).
pub(super) async fn anchor<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    team_id: &TeamId,
) -> Result<(i64, String), ServerError> {
    let row = sqlx::query("SELECT anchor_seq, anchor_hash FROM audit_retention WHERE team_id = $1")
        .bind(team_id.as_str())
        .fetch_optional(executor)
        .await?;
    Ok(match row {
        Some(row) => (row.try_get("anchor_seq")?, row.try_get("anchor_hash")?),
        None => (0, GENESIS.to_owned()),
    })
}
