//! Checking the chain: every hash recomputed from the anchor to the head.

use kaito_api::ChainReport;
use sqlx::Row as _;

use super::chain::{Canonical, anchor, chain_hash, head};
use crate::error::ServerError;
use crate::ids::TeamId;
use crate::store::Store;

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
