//! The pull API for SIEMs (pages behind an opaque cursor) and signed checkpoints
//! of the chain head.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::Signer as _;
use kaito_api::{AuditPage, AuditPullRequest, CheckpointView, checkpoint_message};

use super::chain::head;
use super::query::{EventFilter, events_in};
use crate::error::ServerError;
use crate::ids::TeamId;
use crate::store::Store;

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
