//! The team's inbox numbers, who may read each, and the messages a member may read.

use crate::ids::NewId as _;
use kaito_api::{AuditKind, SmsMessageView, SmsNumberGrantView, SmsNumberView};
use serde_json::json;
use sqlx::Row as _;

use crate::accounts::{Caller, GrantSubject};
use crate::audited::Audited;
use crate::error::ServerError;
use crate::ids::{NumberId, TeamId};
use crate::store::Store;

/// A phone number of the admin's team, in E.164 form (`+15550100123`), where the
/// operator lets team admins add numbers ([`super::SmsConfig::team_admins_add_numbers`]).
pub async fn add_number(
    store: &Store,
    admin: &Caller,
    phone_number: &str,
    label: &str,
    now_ms: i64,
) -> Result<NumberId, ServerError> {
    let phone_number = checked_number(phone_number)?;
    let mut tx = store.audited(admin, now_ms).await?;
    let number_id = add_number_in(&mut tx, phone_number, label).await?;
    tx.commit().await?;
    Ok(number_id)
}

/// The operator gives `team_id` a number (`kaito-server admin add-number`): the
/// provider account is the operator's, so only they know which team a number is
/// for. In the team's audit log with no actor.
pub async fn assign_number(
    store: &Store,
    team_id: &TeamId,
    phone_number: &str,
    label: &str,
    now_ms: i64,
) -> Result<NumberId, ServerError> {
    let phone_number = checked_number(phone_number)?;
    let team = sqlx::query("SELECT 1 AS found FROM teams WHERE id = $1")
        .bind(team_id.as_str())
        .fetch_optional(store.pool())
        .await?;
    if team.is_none() {
        return Err(ServerError::NotFound(format!("No team {team_id}.")));
    }
    let mut tx = store.audited_in(team_id, None, now_ms).await?;
    let number_id = add_number_in(&mut tx, phone_number, label).await?;
    tx.commit().await?;
    Ok(number_id)
}

fn checked_number(phone_number: &str) -> Result<&str, ServerError> {
    let phone_number = phone_number.trim();
    let valid = phone_number.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.bytes().all(|byte| byte.is_ascii_digit())
    });
    if !valid {
        return Err(ServerError::BadRequest(format!(
            "“{phone_number}” is not a phone number in international form (like +15550100123)."
        )));
    }
    Ok(phone_number)
}

async fn add_number_in(
    tx: &mut Audited<'_>,
    phone_number: &str,
    label: &str,
) -> Result<NumberId, ServerError> {
    let number_id = NumberId::generate()?;
    let taken = sqlx::query("SELECT 1 AS found FROM sms_numbers WHERE phone_number = $1")
        .bind(phone_number)
        .fetch_optional(&mut ***tx)
        .await?
        .is_some();
    if taken {
        return Err(ServerError::Conflict(format!(
            "{phone_number} is already in an inbox."
        )));
    }
    sqlx::query("INSERT INTO sms_numbers (id, team_id, phone_number, label, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(number_id.as_str())
        .bind(tx.team_id().as_str())
        .bind(phone_number)
        .bind(label.trim())
        .bind(tx.at_ms())
        .execute(&mut ***tx)
        .await?;
    tx.record(
        AuditKind::SmsNumberAdded,
        Some(number_id.as_str()),
        json!({ "phone_number": phone_number, "label": label.trim() }),
    )
    .await?;
    Ok(number_id)
}

/// Lets a user or a group of the admin's team read a number's messages.
pub async fn grant_number(
    store: &Store,
    admin: &Caller,
    number_id: &str,
    subject: &GrantSubject,
    now_ms: i64,
) -> Result<crate::ids::GrantId, ServerError> {
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
    Ok(grant_id)
}

/// The admin's team numbers with their grants, by number.
pub async fn list_numbers(
    store: &Store,
    team_id: &TeamId,
) -> Result<Vec<SmsNumberView>, ServerError> {
    let numbers = sqlx::query(
        "SELECT id, phone_number, label, created_at FROM sms_numbers
         WHERE team_id = $1 ORDER BY phone_number",
    )
    .bind(team_id.as_str())
    .fetch_all(store.pool())
    .await?;
    let grants = sqlx::query(
        "SELECT g.id, g.number_id, g.user_id, g.group_id, g.created_by, g.created_at
         FROM sms_number_grants g JOIN sms_numbers n ON n.id = g.number_id
         WHERE n.team_id = $1 ORDER BY g.created_at, g.id",
    )
    .bind(team_id.as_str())
    .fetch_all(store.pool())
    .await?;
    numbers
        .iter()
        .map(|number| {
            let id: String = number.try_get("id")?;
            let grants = grants
                .iter()
                .filter(|grant| {
                    grant
                        .try_get::<&str, _>("number_id")
                        .is_ok_and(|of| of == id)
                })
                .map(|grant| {
                    Ok(SmsNumberGrantView {
                        id: grant.try_get("id")?,
                        user_id: grant.try_get("user_id")?,
                        group_id: grant.try_get("group_id")?,
                        created_by: grant.try_get("created_by")?,
                        created_at: grant.try_get("created_at")?,
                    })
                })
                .collect::<Result<_, ServerError>>()?;
            Ok(SmsNumberView {
                id,
                phone_number: number.try_get("phone_number")?,
                label: number.try_get("label")?,
                created_at: number.try_get("created_at")?,
                grants,
            })
        })
        .collect()
}

/// Withdraws a grant on one of the admin's team numbers: from the next fetch or
/// live message on, its member (or group) no longer reads the number.
pub async fn revoke_number_grant(
    store: &Store,
    admin: &Caller,
    (number_id, grant_id): (&str, &str),
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let revoked = sqlx::query(
        "DELETE FROM sms_number_grants
         WHERE id = $1 AND number_id = $2
           AND number_id IN (SELECT id FROM sms_numbers WHERE team_id = $3)
         RETURNING user_id, group_id",
    )
    .bind(grant_id)
    .bind(number_id)
    .bind(admin.team_id.as_str())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| {
        ServerError::NotFound(format!(
            "No grant {grant_id} on a phone number {number_id} of your team."
        ))
    })?;
    tx.record(
        AuditKind::SmsGrantRevoked,
        Some(number_id),
        json!({
            "grant_id": grant_id,
            "user_id": revoked.try_get::<Option<String>, _>("user_id")?,
            "group_id": revoked.try_get::<Option<String>, _>("group_id")?,
        }),
    )
    .await?;
    tx.commit().await
}

/// Removes a number from the admin's team, with its grants and the texts stored
/// for it (they hold one-time codes nobody should read any more). Texts sent to it
/// afterwards are not stored, and the number can be added again, by any team.
pub async fn remove_number(
    store: &Store,
    admin: &Caller,
    number_id: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let phone_number: String =
        sqlx::query_scalar("SELECT phone_number FROM sms_numbers WHERE id = $1 AND team_id = $2")
            .bind(number_id)
            .bind(admin.team_id.as_str())
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| {
                ServerError::NotFound(format!("No phone number {number_id} in your team."))
            })?;
    sqlx::query("DELETE FROM sms_number_grants WHERE number_id = $1")
        .bind(number_id)
        .execute(&mut **tx)
        .await?;
    let messages = sqlx::query("DELETE FROM sms_messages WHERE number_id = $1")
        .bind(number_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM sms_numbers WHERE id = $1")
        .bind(number_id)
        .execute(&mut **tx)
        .await?;
    tx.record(
        AuditKind::SmsNumberRemoved,
        Some(number_id),
        json!({ "phone_number": phone_number, "messages_removed": messages }),
    )
    .await?;
    tx.commit().await
}

/// How texts reached a member, as the audit log says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Fetch,
    Stream,
}

/// Messages after `after_seq` on the numbers the caller may read, oldest first,
/// and an `sms.delivered` audit event naming them, recorded before they are
/// handed out: a text's one-time code is as sensitive as a shared token's, whose
/// every serving is audited too.
pub async fn deliver_messages(
    (store, log): (&Store, &super::delivery_log::DeliveryLog),
    caller: &Caller,
    (after_seq, limit): (i64, i64),
    via: Delivery,
    now_ms: i64,
) -> Result<Vec<SmsMessageView>, ServerError> {
    let messages = messages_for(store, caller, after_seq, limit).await?;
    if messages.is_empty() {
        return Ok(messages);
    }
    let mut numbers: Vec<&str> = messages.iter().map(|m| m.number_id.as_str()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let details = json!({
        "seqs": messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        "number_ids": numbers,
        "via": match via { Delivery::Fetch => "fetch", Delivery::Stream => "stream" },
    });
    log.record(
        store,
        caller,
        ((numbers.len() == 1).then(|| numbers[0]), details),
        now_ms,
    )
    .await?;
    Ok(messages)
}

async fn messages_for(
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
