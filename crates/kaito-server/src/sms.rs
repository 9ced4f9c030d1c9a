//! The shared SMS inbox. Providers post each text message to a webhook; the
//! signature is checked before anything is stored, a message is stored once however
//! often the provider retries, its one-time code is picked out, and members allowed
//! to read the number get it live.
//!
//! Twilio so far: `X-Twilio-Signature` is base64(HMAC-SHA1(auth token, the public
//! webhook URL followed by every form field name and value, sorted by name)).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use kaito_api::SmsMessageView;
use serde_json::json;
use sqlx::Row as _;
use zeroize::Zeroizing;

use crate::accounts::{Caller, GrantSubject};
use crate::audit::{self, NewEvent};
use crate::error::ServerError;
use crate::ids::{NumberId, TeamId};
use crate::store::{Backend, Store};

/// How the server checks providers' webhooks.
#[derive(Default)]
pub struct SmsConfig {
    /// The URL Twilio is configured to call, exactly (scheme, host, path): the
    /// signature covers it. Behind a proxy this is the public URL, not ours.
    pub twilio_webhook_url: Option<String>,
    pub twilio_auth_token: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsConfig")
            .field("twilio_webhook_url", &self.twilio_webhook_url)
            .field(
                "twilio_auth_token",
                &self.twilio_auth_token.as_ref().map(|_| "…"),
            )
            .finish()
    }
}

/// A message arrived for `team_id`; subscribers check whether they may see it.
#[derive(Debug, Clone)]
pub struct SmsArrived {
    pub team_id: TeamId,
    pub seq: i64,
}

/// What wakes a live SMS stream: a message for a team, or word that messages may
/// have arrived unannounced (the replica relay lost its connection), so every
/// stream reads on from its cursor.
#[derive(Debug, Clone)]
pub enum InboxWake {
    Arrived(TeamId),
    CatchUp,
}

/// The PostgreSQL channel on which every replica hears of new messages.
pub const NOTIFY_CHANNEL: &str = "kaito_sms";

/// Relays PostgreSQL notifications of new messages (from any replica) to this
/// replica's live streams, for as long as the server runs. Notifications sent while
/// the connection was down are lost, so each reconnect wakes every stream to catch
/// up from its cursor.
pub async fn relay_notifications(
    database_url: String,
    wakes: tokio::sync::broadcast::Sender<InboxWake>,
) {
    loop {
        match sqlx::postgres::PgListener::connect(&database_url).await {
            Ok(mut listener) => match listener.listen(NOTIFY_CHANNEL).await {
                Ok(()) => {
                    let _ = wakes.send(InboxWake::CatchUp);
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(notification)) => {
                                let team_id =
                                    TeamId::from_stored(notification.payload().to_owned());
                                let _ = wakes.send(InboxWake::Arrived(team_id));
                            }
                            // Lost and reconnecting on the next call.
                            Ok(None) => {
                                tracing::warn!(
                                    "the SMS relay lost its PostgreSQL connection; reconnecting"
                                );
                                let _ = wakes.send(InboxWake::CatchUp);
                            }
                            Err(error) => {
                                tracing::warn!(%error, "the SMS relay stopped; restarting");
                                break;
                            }
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "the SMS relay cannot listen"),
            },
            Err(error) => tracing::warn!(%error, "the SMS relay cannot connect"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// Twilio's signature of a webhook call.
#[must_use]
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

fn field<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, ServerError> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .ok_or_else(|| ServerError::BadRequest(format!("The webhook has no {name} field.")))
}

/// Handles a Twilio webhook body (form-encoded). Returns the new message's seq, or
/// `None` for a retry of one already stored or a number Kaito does not hold.
pub async fn receive_twilio(
    store: &Store,
    config: &SmsConfig,
    signature: Option<&str>,
    body: &[u8],
    now_ms: i64,
) -> Result<Option<SmsArrived>, ServerError> {
    let (Some(url), Some(auth_token)) = (&config.twilio_webhook_url, &config.twilio_auth_token)
    else {
        return Err(ServerError::NotFound(
            "Twilio is not configured on this server.".to_owned(),
        ));
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let expected = twilio_signature(auth_token, url, &params);
    let valid = signature.is_some_and(|given| {
        crate::secrets::constant_time_eq(given.trim().as_bytes(), expected.as_bytes())
    });
    if !valid {
        tracing::warn!("refused a Twilio webhook with a wrong or missing signature");
        return Err(ServerError::BadSignature);
    }
    let message_id = field(&params, "MessageSid")?;
    let to = field(&params, "To")?;
    let from = field(&params, "From")?;
    let text = field(&params, "Body")?;
    store_message(store, "twilio", message_id, to, from, text, now_ms).await
}

async fn store_message(
    store: &Store,
    provider: &str,
    message_id: &str,
    to: &str,
    from: &str,
    text: &str,
    now_ms: i64,
) -> Result<Option<SmsArrived>, ServerError> {
    let mut tx = store.write_tx().await?;
    if store.backend() == Backend::Postgres {
        // Messages commit in seq order, so a stream reading on from seq N never
        // misses a lower seq committed later. (SQLite has one writer anyway.)
        sqlx::query("SELECT pg_advisory_xact_lock(7411)")
            .execute(&mut *tx)
            .await?;
    }
    let Some(number) = sqlx::query("SELECT id, team_id FROM sms_numbers WHERE phone_number = $1")
        .bind(to)
        .fetch_optional(&mut *tx)
        .await?
    else {
        // Answered with success all the same: a provider would retry an error forever.
        tracing::warn!(
            provider,
            "a text message for a number no team holds was dropped"
        );
        return Ok(None);
    };
    let number_id: String = number.try_get("id")?;
    let team_id = TeamId::from_stored(number.try_get("team_id")?);
    let code = kaito_core::sms::extract_code(text);
    let inserted = sqlx::query(
        "INSERT INTO sms_messages
           (team_id, number_id, provider, provider_message_id, from_number, body, code, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (provider, provider_message_id) DO NOTHING
         RETURNING seq",
    )
    .bind(team_id.as_str())
    .bind(number_id.as_str())
    .bind(provider)
    .bind(message_id)
    .bind(from)
    .bind(text)
    .bind(code.as_deref())
    .bind(now_ms)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = inserted else {
        return Ok(None);
    };
    let seq: i64 = row.try_get("seq")?;
    // The log says a message came, not what it said: no body, no code.
    audit::append(
        &mut tx,
        &team_id,
        &NewEvent {
            kind: "sms.received",
            actor: None,
            subject: Some(number_id.as_str()),
            details: json!({ "provider": provider, "message_id": message_id, "from": from, "seq": seq }),
        },
        now_ms,
    )
    .await?;
    if store.backend() == Backend::Postgres {
        // Delivered to every replica's relay when the transaction commits.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(NOTIFY_CHANNEL)
            .bind(team_id.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Some(SmsArrived { team_id, seq }))
}

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
    let mut tx = store.write_tx().await?;
    let taken = sqlx::query("SELECT 1 AS found FROM sms_numbers WHERE phone_number = $1")
        .bind(phone_number)
        .fetch_optional(&mut *tx)
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
        .execute(&mut *tx)
        .await?;
    audit::by_caller(
        &mut tx,
        admin,
        "sms.number_added",
        Some(number_id.as_str()),
        json!({ "phone_number": phone_number, "label": label.trim() }),
        now_ms,
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
    let mut tx = store.write_tx().await?;
    let number_in_team =
        sqlx::query("SELECT 1 AS found FROM sms_numbers WHERE id = $1 AND team_id = $2")
            .bind(number_id)
            .bind(admin.team_id.as_str())
            .fetch_optional(&mut *tx)
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
    .execute(&mut *tx)
    .await?;
    audit::by_caller(&mut tx, admin, "sms.grant_created", Some(number_id), json!({ "grant_id": grant_id.as_str(), "user_id": subject.user_id(), "group_id": subject.group_id() }), now_ms).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_signature_matches_their_documented_example() {
        // From Twilio's "Webhooks security" documentation.
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(
            twilio_signature(
                "12345",
                "https://mycompany.com/myapp.php?foo=1&bar=2",
                &params
            ),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
    }
}
