//! The append-only audit log: one hash chain per team, where each event's hash is
//! SHA-256(previous hash ‖ the event's canonical form). Changing, removing or
//! reordering any stored event breaks every hash after it, which [`verify`] finds.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::Signer as _;
use kaito_api::{
    AuditEventView, AuditKind, AuditPage, AuditPullRequest, ChainReport, CheckpointView,
    RetentionSetting, checkpoint_message,
};
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
struct Canonical<'a> {
    team_id: &'a str,
    seq: i64,
    event_id: &'a str,
    at: i64,
    actor: Option<&'a str>,
    kind: &'a str,
    subject: Option<&'a str>,
    details: &'a str,
}

fn chain_hash(prev_hash: &str, canonical: &Canonical<'_>) -> Result<String, ServerError> {
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

/// Appends an event the signed-in `caller` caused, to their team's chain.
pub async fn by_caller(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    caller: &crate::accounts::Caller,
    kind: &str,
    subject: Option<&str>,
    details: serde_json::Value,
    now_ms: i64,
) -> Result<i64, ServerError> {
    append(
        tx,
        &caller.team_id,
        &NewEvent {
            kind,
            actor: Some(caller.user_id.as_str()),
            subject,
            details,
        },
        now_ms,
    )
    .await
}

/// Events of `team_id` after `after_seq`, oldest first.
pub async fn events(
    store: &Store,
    team_id: &TeamId,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<AuditEventView>, ServerError> {
    events_in(store, team_id, after_seq, &EventFilter::default(), limit).await
}

/// What a reader narrows the log to; each part left `None` matches every event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// An exact kind (`code.served`), or a prefix when it ends with `.` (`code.`).
    pub kind: Option<String>,
    /// The user (or device) who acted.
    pub actor: Option<String>,
    pub subject: Option<String>,
    /// Unix milliseconds, inclusive.
    pub from: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub to: Option<i64>,
}

/// Events of `team_id` after `after_seq` that pass `filter`, oldest first.
pub async fn events_matching(
    store: &Store,
    team_id: &TeamId,
    after_seq: i64,
    filter: &EventFilter,
    limit: i64,
) -> Result<Vec<AuditEventView>, ServerError> {
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from >= to
    {
        return Err(ServerError::BadRequest(
            "`from` must be before `to`.".to_owned(),
        ));
    }
    events_in(store, team_id, after_seq, filter, limit).await
}

/// Events after `after_seq` that pass `filter`, oldest first. One fixed query for
/// every filter: a part not asked for is bound as NULL and its condition holds.
async fn events_in(
    store: &Store,
    team_id: &TeamId,
    after_seq: i64,
    filter: &EventFilter,
    limit: i64,
) -> Result<Vec<AuditEventView>, ServerError> {
    let kind = filter.kind.as_deref();
    let (exact_kind, kind_prefix) = match kind {
        Some(prefix) if prefix.ends_with('.') => (None, Some(prefix)),
        _ => (kind, None),
    };
    // substr/length rather than LIKE: kinds hold `_`, a LIKE wildcard.
    let rows = sqlx::query(
        "SELECT seq, event_id, at, actor, kind, subject, details, hash FROM audit_events
         WHERE team_id = $1 AND seq > $2 AND at >= $3 AND at < $4
           AND ($5 IS NULL OR kind = $5)
           AND ($6 IS NULL OR substr(kind, 1, length($6)) = $6)
           AND ($7 IS NULL OR actor = $7)
           AND ($8 IS NULL OR subject = $8)
         ORDER BY seq LIMIT $9",
    )
    .bind(team_id.as_str())
    .bind(after_seq)
    .bind(filter.from.unwrap_or(i64::MIN))
    .bind(filter.to.unwrap_or(i64::MAX))
    .bind(exact_kind)
    .bind(kind_prefix)
    .bind(filter.actor.as_deref())
    .bind(filter.subject.as_deref())
    .bind(limit.clamp(1, 1001))
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let details: String = row.try_get("details")?;
            Ok(AuditEventView {
                seq: row.try_get("seq")?,
                event_id: row.try_get("event_id")?,
                at: row.try_get("at")?,
                actor: row.try_get("actor")?,
                kind: row.try_get("kind")?,
                subject: row.try_get("subject")?,
                details: serde_json::from_str(&details)
                    .map_err(|error| ServerError::Corrupt(format!("event details: {error}")))?,
                hash: row.try_get("hash")?,
            })
        })
        .collect()
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

/// Recomputes the whole chain of `team_id`, in pages, and reports the first event
/// whose stored hash, link or position does not match.
pub async fn verify(store: &Store, team_id: &TeamId) -> Result<ChainReport, ServerError> {
    let (anchor_seq, anchor_hash) = anchor(store.pool(), team_id).await?;
    let mut prev_hash = anchor_hash;
    let mut expected_seq = anchor_seq + 1;
    let mut first_broken_seq = None;
    loop {
        let rows = sqlx::query(
            "SELECT seq, event_id, at, actor, kind, subject, details, prev_hash, hash
             FROM audit_events WHERE team_id = $1 AND seq >= $2 ORDER BY seq LIMIT 1000",
        )
        .bind(team_id.as_str())
        .bind(expected_seq)
        .fetch_all(store.pool())
        .await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let seq: i64 = row.try_get("seq")?;
            let stored_prev: String = row.try_get("prev_hash")?;
            let stored_hash: String = row.try_get("hash")?;
            let event_id: String = row.try_get("event_id")?;
            let actor: Option<String> = row.try_get("actor")?;
            let kind: String = row.try_get("kind")?;
            let subject: Option<String> = row.try_get("subject")?;
            let details: String = row.try_get("details")?;
            let recomputed = chain_hash(
                &prev_hash,
                &Canonical {
                    team_id: team_id.as_str(),
                    seq,
                    event_id: &event_id,
                    at: row.try_get("at")?,
                    actor: actor.as_deref(),
                    kind: &kind,
                    subject: subject.as_deref(),
                    details: &details,
                },
            )?;
            if seq != expected_seq || stored_prev != prev_hash || recomputed != stored_hash {
                first_broken_seq.get_or_insert(expected_seq.min(seq));
            }
            // Go on from what is stored, so one edited event is reported once.
            prev_hash = stored_hash;
            expected_seq = seq + 1;
        }
    }
    let (head_seq, head_hash) = head(store, team_id).await?;
    // Events removed from the end leave the head pointing past the last one.
    if head_seq != expected_seq - 1 || head_hash != prev_hash {
        first_broken_seq.get_or_insert(expected_seq);
    }
    Ok(ChainReport {
        events: expected_seq - 1 - anchor_seq,
        pruned_through_seq: anchor_seq,
        head_hash,
        intact: first_broken_seq.is_none(),
        first_broken_seq,
    })
}

/// Where the team's chain starts: after the events retention removed (seq 0 and
/// [`GENESIS`] when none were).
async fn anchor<'e>(
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

const DAY_MS: i64 = 86_400_000;

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

/// Sets how long the owner's team keeps audit events (at least a day).
pub async fn set_retention(
    store: &Store,
    owner: &crate::accounts::Caller,
    setting: RetentionSetting,
    now_ms: i64,
) -> Result<(), ServerError> {
    if setting
        .keep_days
        .is_some_and(|days| days == 0 || days > 36_500)
    {
        return Err(ServerError::BadRequest(
            "Keep audit events for 1 to 36500 days, or leave keep_days empty to keep them for ever."
                .to_owned(),
        ));
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

/// Removes the events older than each team's retention that every SIEM sink of the
/// team has received, moving the chain's anchor past them. Returns how many went.
pub async fn prune_expired(store: &Store, now_ms: i64) -> Result<i64, ServerError> {
    let teams =
        sqlx::query("SELECT team_id, keep_days FROM audit_retention WHERE keep_days IS NOT NULL")
            .fetch_all(store.pool())
            .await?;
    let mut removed = 0;
    for row in teams {
        let team_id = TeamId::from_stored(row.try_get("team_id")?);
        let keep_days: i64 = row.try_get("keep_days")?;
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
    let mut through = first_kept.map_or(i64::MAX, |seq| seq - 1);
    if let Some(delivered) = undelivered {
        through = through.min(delivered);
    }
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
pub async fn prune_forever(store: Store) {
    let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        hourly.tick().await;
        if let Err(error) = prune_expired(&store, crate::http::now_ms()).await {
            tracing::warn!(%error, "audit retention failed; trying again in an hour");
        }
    }
}

/// Where a pull left off: the last event delivered and the time range asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    after_seq: i64,
    start: i64,
    end: i64,
}

impl Cursor {
    fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("v1:{}:{}:{}", self.after_seq, self.start, self.end))
    }

    fn decode(text: &str) -> Result<Self, ServerError> {
        let invalid =
            || ServerError::BadRequest("This cursor is not one this server gave out.".to_owned());
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = text.split(':');
        let (Some("v1"), Some(after), Some(start), Some(end), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(invalid());
        };
        Ok(Self {
            after_seq: after.parse().map_err(|_| invalid())?,
            start: start.parse().map_err(|_| invalid())?,
            end: end.parse().map_err(|_| invalid())?,
        })
    }
}

/// Most events one page carries; 100 when the request does not say.
pub const MAX_PAGE: u32 = 1000;

/// One page of the pull API (at-least-once for the puller: it stores the cursor
/// after processing a page; asking again with an older cursor repeats events).
pub async fn pull(
    store: &Store,
    team_id: &TeamId,
    request: &AuditPullRequest,
) -> Result<AuditPage, ServerError> {
    let cursor = match &request.cursor {
        Some(text) => Cursor::decode(text)?,
        None => Cursor {
            after_seq: 0,
            start: request.start_time.unwrap_or(i64::MIN),
            end: request.end_time.unwrap_or(i64::MAX),
        },
    };
    if cursor.start >= cursor.end {
        return Err(ServerError::BadRequest(
            "start_time must be before end_time.".to_owned(),
        ));
    }
    let limit = i64::from(request.limit.unwrap_or(100).clamp(1, MAX_PAGE));
    let range = EventFilter {
        from: Some(cursor.start),
        to: Some(cursor.end),
        ..EventFilter::default()
    };
    let mut items = events_in(store, team_id, cursor.after_seq, &range, limit + 1).await?;
    let has_more = items.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = Cursor {
        after_seq: items.last().map_or(cursor.after_seq, |event| event.seq),
        ..cursor
    };
    Ok(AuditPage {
        cursor: next.encode(),
        has_more,
        items,
    })
}

/// The team's chain head, signed by the server.
pub async fn checkpoint(
    store: &Store,
    key: &crate::custody::ServerKey,
    team_id: &TeamId,
    now_ms: i64,
) -> Result<CheckpointView, ServerError> {
    let (seq, head_hash) = head(store, team_id).await?;
    let signer = key.checkpoint_signer();
    let signature =
        signer.sign(checkpoint_message(team_id.as_str(), seq, &head_hash, now_ms).as_bytes());
    Ok(CheckpointView {
        team_id: team_id.to_string(),
        seq,
        head_hash,
        at: now_ms,
        signature: STANDARD.encode(signature.to_bytes()),
        public_key: STANDARD.encode(signer.verifying_key().to_bytes()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_forged_ones_are_refused() {
        let cursor = Cursor {
            after_seq: 42,
            start: -5,
            end: i64::MAX,
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        for forged in [
            "",
            "djE6YQ",
            "not base64!",
            &URL_SAFE_NO_PAD.encode("v2:1:2:3"),
        ] {
            assert!(
                matches!(Cursor::decode(forged), Err(ServerError::BadRequest(_))),
                "{forged}"
            );
        }
    }
}
