//! Reading the log: by page, and narrowed by kind, actor, subject and time.

use kaito_api::AuditEventView;
use sqlx::Row as _;

use crate::error::ServerError;
use crate::ids::TeamId;
use crate::store::Store;

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
pub(super) async fn events_in(
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
