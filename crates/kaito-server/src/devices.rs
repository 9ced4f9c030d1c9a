//! Members' devices and the audit events they send. A device enrols with an
//! Ed25519 public key and signs every batch with it; events carry the device's own
//! id (resending is harmless) and a per-device sequence number, and a skipped
//! number is written into the log as a gap, so missing events are visible.

use crate::ids::NewId as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use kaito_api::{AuditKind, BatchReceipt, DeviceEventKind, EventBatch, NewDevice};
use serde_json::json;
use sqlx::Row as _;

use crate::accounts::Caller;
use crate::error::ServerError;
use crate::ids::DeviceId;
use crate::store::Store;

/// Most events one batch may carry.
pub const MAX_BATCH: usize = 1000;

fn public_key(text: &str) -> Result<VerifyingKey, ServerError> {
    let invalid = || {
        ServerError::BadRequest(
            "The device key must be a base64 Ed25519 public key (32 bytes).".to_owned(),
        )
    };
    let bytes: [u8; 32] = STANDARD
        .decode(text.trim())
        .map_err(|_| invalid())?
        .try_into()
        .map_err(|_| invalid())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| invalid())
}

/// Enrols a device of the caller.
pub async fn enroll(
    store: &Store,
    caller: &Caller,
    device: &NewDevice,
    now_ms: i64,
) -> Result<DeviceId, ServerError> {
    let key = public_key(&device.public_key)?;
    let device_id = DeviceId::generate()?;
    let mut tx = store.audited(caller, now_ms).await?;
    let known = sqlx::query("SELECT 1 AS found FROM devices WHERE public_key = $1")
        .bind(STANDARD.encode(key.to_bytes()))
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    if known {
        return Err(ServerError::Conflict(
            "This device key is enrolled already.".to_owned(),
        ));
    }
    sqlx::query(
        "INSERT INTO devices (id, team_id, user_id, name, public_key, last_seq, created_at)
         VALUES ($1, $2, $3, $4, $5, 0, $6)",
    )
    .bind(device_id.as_str())
    .bind(caller.team_id.as_str())
    .bind(caller.user_id.as_str())
    .bind(device.name.trim())
    .bind(STANDARD.encode(key.to_bytes()))
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    tx.record(
        AuditKind::DeviceEnrolled,
        Some(device_id.as_str()),
        json!({ "name": device.name.trim() }),
    )
    .await?;
    tx.commit().await?;
    Ok(device_id)
}

/// Revokes a device: its own member or an admin of the team may.
pub async fn revoke(
    store: &Store,
    caller: &Caller,
    device_id: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(caller, now_ms).await?;
    let row = sqlx::query(
        "SELECT d.user_id, u.role FROM devices d JOIN users u ON u.id = d.user_id
         WHERE d.id = $1 AND d.team_id = $2 AND d.revoked_at IS NULL",
    )
    .bind(device_id)
    .bind(caller.team_id.as_str())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| ServerError::NotFound(format!("No active device {device_id} in your team.")))?;
    let owner: String = row.try_get("user_id")?;
    if owner != caller.user_id.as_str() {
        if caller.role < kaito_api::Role::Admin {
            return Err(ServerError::Forbidden {
                have: caller.role,
                need: kaito_api::Role::Admin,
            });
        }
        let owner_role: String = row.try_get("role")?;
        crate::accounts::may_act_on(caller, crate::accounts::role_of(&owner_role)?)?;
    }
    sqlx::query("UPDATE devices SET revoked_at = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(device_id)
        .execute(&mut **tx)
        .await?;
    tx.record(AuditKind::DeviceRevoked, Some(device_id), json!({}))
        .await?;
    tx.commit().await
}

/// A batch that may be kept: well-formed, of allowed kinds and values, signed by
/// the caller's own live device, naming the team's subjects, within the device's
/// allowance. Checked outside the write lock. Answers the device and the events.
async fn checked_batch(
    store: &Store,
    limit: &crate::device_limit::DeviceEventLimit,
    caller: &Caller,
    body: &[u8],
    signature: Option<&str>,
) -> Result<(String, Vec<(DeviceEventKind, kaito_api::DeviceEvent)>), ServerError> {
    let batch: EventBatch = serde_json::from_slice(body)
        .map_err(|error| ServerError::BadRequest(format!("The batch is not valid: {error}")))?;
    if batch.events.len() > MAX_BATCH {
        return Err(ServerError::BadRequest(format!(
            "A batch carries at most {MAX_BATCH} events."
        )));
    }
    // The kinds a device may report are a type: a batch with any other is refused.
    let mut events = Vec::with_capacity(batch.events.len());
    for event in batch.events {
        let Ok(kind) = event.kind.parse::<DeviceEventKind>() else {
            let known: Vec<&str> = DeviceEventKind::ALL
                .iter()
                .map(|kind| kind.as_str())
                .collect();
            return Err(ServerError::BadRequest(format!(
                "Devices cannot report “{}” events; they report {}.",
                event.kind,
                known.join(", ")
            )));
        };
        check_event(&event)?;
        events.push((kind, event));
    }
    // The device and its signature first, outside the write lock: only the
    // device's own key spends its event allowance.
    let device = sqlx::query(
        "SELECT public_key, last_seq FROM devices
         WHERE id = $1 AND user_id = $2 AND team_id = $3 AND revoked_at IS NULL",
    )
    .bind(batch.device_id.as_str())
    .bind(caller.user_id.as_str())
    .bind(caller.team_id.as_str())
    .fetch_optional(store.pool())
    .await?
    .ok_or(ServerError::UnknownDevice)?;
    let key = public_key(&device.try_get::<String, _>("public_key")?)?;
    let signature: [u8; 64] = signature
        .and_then(|text| STANDARD.decode(text.trim()).ok())
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(ServerError::BadSignature)?;
    key.verify_strict(body, &Signature::from_bytes(&signature))
        .map_err(|_| ServerError::BadSignature)?;
    // Sequence numbers only grow, so a jump refused against this reading is one
    // under the write lock too.
    let seen_seq: i64 = device.try_get("last_seq")?;
    for (kind, event) in &events {
        if event.seq > seen_seq.saturating_add(MAX_SEQ_JUMP) {
            return Err(ServerError::BadRequest(format!(
                "Event {} of the batch jumps more than {MAX_SEQ_JUMP} past the device's last.",
                event.seq
            )));
        }
        check_subject(store, &caller.team_id, *kind, event).await?;
    }
    // Only a batch that will be kept spends the device's allowance.
    limit.take(&batch.device_id, events.len())?;

    Ok((batch.device_id, events))
}

/// Takes a signed batch from one of the caller's devices into the team's chain, in
/// one transaction: all of it or none.
pub async fn ingest(
    store: &Store,
    limit: &crate::device_limit::DeviceEventLimit,
    caller: &Caller,
    body: &[u8],
    signature: Option<&str>,
    now_ms: i64,
) -> Result<BatchReceipt, ServerError> {
    let (device_id, mut events) = checked_batch(store, limit, caller, body, signature).await?;
    let mut tx = store.audited(caller, now_ms).await?;
    // Read again under the lock: a revocation since the check above wins.
    let mut last_seq: i64 =
        sqlx::query_scalar("SELECT last_seq FROM devices WHERE id = $1 AND revoked_at IS NULL")
            .bind(device_id.as_str())
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(ServerError::UnknownDevice)?;
    events.sort_by_key(|(_, event)| event.seq);
    let mut receipt = BatchReceipt {
        accepted: 0,
        duplicates: 0,
        gaps: Vec::new(),
    };
    for (kind, event) in &events {
        let Some(event_id) = stored_event_id(&mut tx, &device_id, &event.event_id).await? else {
            receipt.duplicates += 1;
            continue;
        };
        let next = last_seq.saturating_add(1);
        if event.seq > next {
            let gap = [next, event.seq - 1];
            receipt.gaps.push(gap);
            // Written by the server, not the device.
            tx.record_as(
                None,
                AuditKind::DeviceSequenceGap,
                Some(device_id.as_str()),
                json!({ "missing_from": gap[0], "missing_to": gap[1] }),
            )
            .await?;
        }
        tx.record_with_id(
            &event_id,
            AuditKind::from(*kind),
            event.token_id.as_deref(),
            json!({
                "device_id": device_id,
                "device_event_id": event.event_id,
                "device_seq": event.seq,
                "device_time": event.at,
                "details": event.details,
            }),
        )
        .await?;
        last_seq = last_seq.max(event.seq);
        receipt.accepted += 1;
    }
    if receipt.accepted == 0 {
        // Only events seen before (or none): nothing changed, so nothing commits.
        return Ok(receipt);
    }
    sqlx::query("UPDATE devices SET last_seq = $1 WHERE id = $2")
        .bind(last_seq)
        .bind(device_id.as_str())
        .execute(&mut **tx)
        .await?;
    tx.commit().await?;
    Ok(receipt)
}

/// The most a device's sequence may jump in one event: more is not a device
/// counting its events (and would push `last_seq` towards overflow).
const MAX_SEQ_JUMP: i64 = 1_000_000;
/// The most a device event's details may hold, as JSON.
const MAX_DETAILS_BYTES: usize = 2_048;

/// What one device event must look like before anything of its batch is kept.
fn check_event(event: &kaito_api::DeviceEvent) -> Result<(), ServerError> {
    let refuse =
        |why: &str| ServerError::BadRequest(format!("Event {} of the batch {why}.", event.seq));
    let id_like = |text: &str| {
        (1..=64).contains(&text.len())
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    };
    if !id_like(&event.event_id) {
        return Err(refuse(
            "has no usable event_id (1–64 letters, digits, - or _)",
        ));
    }
    if !(1..=i64::MAX / 2).contains(&event.seq) {
        return Err(refuse("has a sequence number out of range"));
    }
    if event.token_id.as_deref().is_some_and(|id| !id_like(id)) {
        return Err(refuse("names a subject that is no id"));
    }
    if !(event.details.is_object() || event.details.is_null())
        || event.details.to_string().len() > MAX_DETAILS_BYTES
    {
        return Err(refuse(&format!(
            "has details that are not a JSON object of at most {MAX_DETAILS_BYTES} bytes"
        )));
    }
    Ok(())
}

/// A code event names a shared token of the team; an SMS copy names one of the
/// team's numbers, or one the team has since removed (the copy came first).
async fn check_subject(
    store: &Store,
    team_id: &crate::ids::TeamId,
    kind: DeviceEventKind,
    event: &kaito_api::DeviceEvent,
) -> Result<(), ServerError> {
    let Some(subject) = event.token_id.as_deref() else {
        return Err(ServerError::BadRequest(format!(
            "Event {} of the batch names no token or number.",
            event.seq
        )));
    };
    let query = match kind {
        DeviceEventKind::SmsCodeCopied => {
            "SELECT 1 AS found FROM sms_numbers WHERE id = $1 AND team_id = $2
             UNION ALL
             SELECT 1 AS found FROM audit_events
             WHERE subject = $1 AND team_id = $2 AND kind = 'sms.number_removed'"
        }
        _ => "SELECT 1 AS found FROM shared_tokens WHERE id = $1 AND team_id = $2",
    };
    let known = sqlx::query(query)
        .bind(subject)
        .bind(team_id.as_str())
        .fetch_optional(store.pool())
        .await?
        .is_some();
    if known {
        Ok(())
    } else {
        Err(ServerError::BadRequest(format!(
            "Event {} of the batch names {subject}, which is not your team's.",
            event.seq
        )))
    }
}

/// The id a device event is kept under, or `None` when this device sent it
/// before. Ids are the device's own; one another team's or device's event already
/// has is kept under an id scoped to this device, so it is neither dropped as a
/// "duplicate" nor refused.
async fn stored_event_id(
    tx: &mut crate::audited::Audited<'_>,
    device_id: &str,
    event_id: &str,
) -> Result<Option<String>, ServerError> {
    let scoped = format!("{device_id}:{event_id}");
    for candidate in [event_id, scoped.as_str()] {
        let existing: Option<(String, String)> =
            sqlx::query_as("SELECT team_id, details FROM audit_events WHERE event_id = $1")
                .bind(candidate)
                .fetch_optional(&mut ***tx)
                .await?;
        let Some((team_id, details)) = existing else {
            return Ok(Some(candidate.to_owned()));
        };
        let from_this_device = team_id == tx.team_id().as_str()
            && serde_json::from_str::<serde_json::Value>(&details)
                .is_ok_and(|details| details["device_id"] == device_id);
        if from_this_device {
            return Ok(None);
        }
    }
    Err(ServerError::Conflict(format!(
        "Event id {event_id} is taken twice over; the device should send a new one."
    )))
}
