//! The team's inbox numbers, who may read each, and the messages a member may read.

use crate::ids::NewId as _;
use kaito_api::{AuditKind, SmsMessageView};
use serde_json::json;
use sqlx::Row as _;

use crate::accounts::{Caller, GrantSubject};
use crate::error::ServerError;
use crate::ids::NumberId;
use crate::store::Store;

/// A phone number of the admin's team, in E.164 form (`+15550100123`).
pub async fn add_number(
    store: &Store,
    admin: &Caller,
    phone_number: &str,
    label: &str,
    now_ms: i64,
) -> Result<NumberId, ServerError> {
    let phone_number = phone_number.trim();
    let valid = phone_number.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.bytes().all(|byte| byte.is_ascii_digit())
    });
    if !valid {
        return Err(ServerError::BadRequest(format!(
            "“{phone_number}” is not a phone number in international form (like +15550100123)."
        )));
    }
    let number_id = NumberId::generate()?;
    let mut tx = store.audited(admin, now_ms).await?;
    let taken = sqlx::query("SELECT 1 AS found FROM sms_numbers WHERE phone_number = $1")
        .bind(phone_number)
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    if taken {
        return Err(ServerError::Conflict(format!(
            "{phone_number} is already in an inbox."
        )));
    }
    sqlx::query("INSERT INTO sms_numbers (id, team_id, phone_number, label, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(number_id.as_str())
        .bind(admin.team_id.as_str())
        .bind(phone_number)
        .bind(label.trim())
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    tx.record(
        AuditKind::SmsNumberAdded,
        Some(number_id.as_str()),
        json!({ "phone_number": phone_number, "label": label.trim() }),
    )
    .await?;
    tx.commit().await?;
    Ok(number_id)
}

/// Lets a user or a group of the admin's team read a number's messages.
pub async fn grant_number(
    store: &Store,
    admin: &Caller,
    number_id: &str,
    subject: &GrantSubject,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let number_in_team =
        sqlx::query("SELECT 1 AS found FROM sms_numbers WHERE id = $1 AND team_id = $2")
            .bind(number_id)
            .bind(admin.team_id.as_str())
            .fetch_optional(&mut **tx)
            .await?
            .is_some();
    if !number_in_team {
        return Err(ServerError::NotFound(format!(
            "No phone number {number_id} in your team."
        )));
    }
    subject.check_in_team(&mut tx, &admin.team_id).await?;
    let grant_id = crate::ids::GrantId::generate()?;
    sqlx::query(
        "INSERT INTO sms_number_grants (id, number_id, user_id, group_id, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(grant_id.as_str())
    .bind(number_id)
    .bind(subject.user_id())
    .bind(subject.group_id())
    .bind(admin.user_id.as_str())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    tx.record(
        AuditKind::SmsGrantCreated,
        Some(number_id),
        json!({ "grant_id": grant_id.as_str(), "user_id": subject.user_id(), "group_id": subject.group_id() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Messages after `after_seq` on the numbers the caller may read, oldest first.
pub async fn messages_for(
    store: &Store,
    caller: &Caller,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<SmsMessageView>, ServerError> {
    let rows = sqlx::query(
        "SELECT m.seq, m.number_id, n.phone_number, n.label, m.from_number, m.body, m.code, m.received_at
         FROM sms_messages m JOIN sms_numbers n ON n.id = m.number_id
         WHERE m.team_id = $1 AND m.seq > $2
           AND m.number_id IN (
             SELECT number_id FROM sms_number_grants
             WHERE user_id = $3
                OR group_id IN (SELECT group_id FROM group_members WHERE user_id = $3))
         ORDER BY m.seq LIMIT $4",
    )
    .bind(caller.team_id.as_str())
    .bind(after_seq)
    .bind(caller.user_id.as_str())
    .bind(limit.clamp(1, 500))
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SmsMessageView {
                seq: row.try_get("seq")?,
                number_id: row.try_get("number_id")?,
                phone_number: row.try_get("phone_number")?,
                label: row.try_get("label")?,
                from: row.try_get("from_number")?,
                body: row.try_get("body")?,
                code: row.try_get("code")?,
                received_at: row.try_get("received_at")?,
            })
        })
        .collect()
}
