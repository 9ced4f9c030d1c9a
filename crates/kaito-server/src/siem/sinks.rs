//! The team's sinks: adding (with the target checked and the secret sealed),
//! listing with delivery progress, removing.

use crate::ids::NewId as _;
use kaito_api::{AuditKind, NewSink, SinkTarget, SinkView};
use serde_json::json;
use sqlx::Row as _;

use super::destination::{DestinationPolicy, ResolveError};
use crate::accounts::Caller;
use crate::audit;
use crate::audited::Audited;
use crate::custody::ServerKey;
use crate::error::ServerError;
use crate::ids::{SinkId, TeamId, UserId};
use crate::store::Store;

pub async fn add_sink(
    store: &Store,
    (key, destinations): (&ServerKey, DestinationPolicy),
    admin: &Caller,
    sink: &NewSink,
    now_ms: i64,
) -> Result<SinkId, ServerError> {
    let name = sink.name.trim();
    if name.is_empty() {
        return Err(ServerError::BadRequest("Give the sink a name.".to_owned()));
    }
    check_target(&sink.target, sink.insecure)?;
    check_destination(&sink.target, destinations).await?;
    let secret = sink
        .secret
        .as_deref()
        .map(str::trim)
        .filter(|secret| !secret.is_empty());
    match (&sink.target, secret) {
        (SinkTarget::SplunkHec { .. }, None) => {
            return Err(ServerError::BadRequest(
                "A Splunk HEC sink needs its HEC token as the secret.".to_owned(),
            ));
        }
        (SinkTarget::Webhook { .. }, secret) if secret.is_none_or(|secret| secret.len() < 16) => {
            return Err(ServerError::BadRequest(
                "A webhook sink needs a secret of at least 16 characters to sign its requests."
                    .to_owned(),
            ));
        }
        (SinkTarget::Syslog { .. }, Some(_)) => {
            return Err(ServerError::BadRequest(
                "A syslog sink takes no secret.".to_owned(),
            ));
        }
        _ => {}
    }
    let sink_id = SinkId::generate()?;
    let (wrapped_key, sealed_secret) = match secret {
        Some(secret) => {
            let (wrapped, sealed) = key.seal(sink_id.as_str(), secret.as_bytes())?;
            (Some(wrapped), Some(sealed))
        }
        None => (None, None),
    };
    let target = serde_json::to_string(&sink.target)
        .map_err(|error| ServerError::Corrupt(format!("a sink target: {error}")))?;
    let mut tx = store.audited(admin, now_ms).await?;
    // A new sink starts at the beginning of the log: the SIEM gets the history too.
    sqlx::query(
        "INSERT INTO siem_sinks (id, team_id, name, target, wrapped_key, sealed_secret, delivered_seq, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
    )
    .bind(sink_id.as_str())
    .bind(admin.team_id.as_str())
    .bind(name)
    .bind(target.as_str())
    .bind(wrapped_key)
    .bind(sealed_secret)
    .bind(now_ms)
    .bind(admin.user_id.as_str())
    .execute(&mut **tx)
    .await?;
    tx.record(
        AuditKind::SinkAdded,
        Some(sink_id.as_str()),
        json!({ "name": name, "target": sink.target }),
    )
    .await?;
    tx.commit().await?;
    Ok(sink_id)
}

fn check_target(target: &SinkTarget, insecure: bool) -> Result<(), ServerError> {
    match target {
        SinkTarget::Syslog {
            host, port, ca_pem, ..
        } => {
            if host.trim().is_empty() || *port == 0 {
                return Err(ServerError::BadRequest(
                    "A syslog sink needs a host and a port.".to_owned(),
                ));
            }
            if let Some(pem) = ca_pem {
                super::transport::trusted_roots(Some(pem))
                    .map_err(|error| ServerError::BadRequest(error.to_string()))?;
            }
            if target.is_cleartext() && !insecure {
                return Err(ServerError::CleartextSink(format!(
                    "Syslog over plain TCP to {}:{port}",
                    host.trim()
                )));
            }
        }
        SinkTarget::SplunkHec { url, .. } | SinkTarget::Webhook { url } => {
            let parsed = reqwest::Url::parse(url.trim()).map_err(|error| {
                ServerError::BadRequest(format!("“{url}” is not a URL: {error}"))
            })?;
            if !matches!(parsed.scheme(), "https" | "http") {
                return Err(ServerError::BadRequest(format!(
                    "“{url}” must be an https:// URL."
                )));
            }
            if parsed.scheme() == "http" && !insecure {
                return Err(ServerError::CleartextSink(format!("“{}”", url.trim())));
            }
        }
    }
    Ok(())
}

/// Refuses, at once, a target whose host is (or now resolves to) an address sinks
/// may not reach. Delivery checks again at every connection, so a name that does
/// not resolve yet is accepted here.
async fn check_destination(
    target: &SinkTarget,
    destinations: DestinationPolicy,
) -> Result<(), ServerError> {
    let (host, port) = match target {
        SinkTarget::Syslog { host, port, .. } => (host.trim().to_owned(), *port),
        SinkTarget::SplunkHec { url, .. } | SinkTarget::Webhook { url } => {
            let parsed = reqwest::Url::parse(url.trim())
                .map_err(|error| ServerError::BadRequest(format!("“{url}”: {error}")))?;
            let host = parsed.host_str().unwrap_or_default().to_owned();
            (host, parsed.port_or_known_default().unwrap_or(443))
        }
    };
    if let Some(checked) = destinations.check_literal(&host) {
        return Ok(checked?);
    }
    let lookup = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        destinations.resolve(&host, port),
    )
    .await;
    match lookup {
        Ok(Err(ResolveError::Refused(refused))) => Err(refused.into()),
        // Unresolvable or slow now: delivery resolves and checks it again.
        Ok(Ok(_) | Err(ResolveError::Lookup { .. })) | Err(_) => Ok(()),
    }
}

/// The team's sinks with how far each has received the log.
pub async fn list_sinks(store: &Store, team_id: &TeamId) -> Result<Vec<SinkView>, ServerError> {
    let (head, _) = audit::head(store, team_id).await?;
    let rows = sqlx::query(
        "SELECT id, name, target, delivered_seq, last_delivered_at, last_error, failures,
                created_by, held_at
         FROM siem_sinks WHERE team_id = $1 ORDER BY created_at, id",
    )
    .bind(team_id.as_str())
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let delivered_seq: i64 = row.try_get("delivered_seq")?;
            let target = parse_target(&row.try_get::<String, _>("target")?)?;
            Ok(SinkView {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                cleartext: target.is_cleartext(),
                target,
                delivered_seq,
                pending: (head - delivered_seq).max(0),
                last_delivered_at: row.try_get("last_delivered_at")?,
                last_error: row.try_get("last_error")?,
                failures: row.try_get("failures")?,
                created_by: row.try_get("created_by")?,
                held_at: row.try_get("held_at")?,
            })
        })
        .collect()
}

/// Holds, in `tx`, the delivery of every sink `user_id` added: part of disabling
/// them, since a sink could point at a server of theirs. The events wait; another
/// admin resumes the sink ([`resume_sink`]) or removes it. Answers the ids.
pub(crate) async fn hold_made_by(
    tx: &mut Audited<'_>,
    user_id: &UserId,
) -> Result<Vec<String>, ServerError> {
    let at_ms = tx.at_ms();
    let held = sqlx::query_scalar(
        "UPDATE siem_sinks SET held_at = $1 WHERE created_by = $2 AND held_at IS NULL RETURNING id",
    )
    .bind(at_ms)
    .bind(user_id.as_str())
    .fetch_all(&mut ***tx)
    .await?;
    Ok(held)
}

/// Lets a held sink deliver again; the resuming admin becomes the one it answers to.
pub async fn resume_sink(
    store: &Store,
    admin: &Caller,
    sink_id: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let resumed = sqlx::query(
        "UPDATE siem_sinks SET held_at = NULL, created_by = $1
         WHERE id = $2 AND team_id = $3 AND held_at IS NOT NULL",
    )
    .bind(admin.user_id.as_str())
    .bind(sink_id)
    .bind(admin.team_id.as_str())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if resumed == 0 {
        return Err(ServerError::NotFound(format!(
            "No held SIEM sink {sink_id} in your team."
        )));
    }
    tx.record(AuditKind::SinkResumed, Some(sink_id), json!({}))
        .await?;
    tx.commit().await
}

pub(super) fn parse_target(text: &str) -> Result<SinkTarget, ServerError> {
    serde_json::from_str(text)
        .map_err(|error| ServerError::Corrupt(format!("a stored sink target: {error}")))
}

pub async fn remove_sink(
    store: &Store,
    admin: &Caller,
    sink_id: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let removed = sqlx::query("DELETE FROM siem_sinks WHERE id = $1 AND team_id = $2")
        .bind(sink_id)
        .bind(admin.team_id.as_str())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(ServerError::NotFound(format!(
            "No SIEM sink {sink_id} in your team."
        )));
    }
    tx.record(AuditKind::SinkRemoved, Some(sink_id), json!({}))
        .await?;
    tx.commit().await
}
