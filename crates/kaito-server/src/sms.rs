//! The shared SMS inbox. Providers post each text message to a webhook; the
//! signature is checked before anything is stored, a message is stored once however
//! often the provider retries, its one-time code is picked out, and members allowed
//! to read the number get it live.
//!
//! - Twilio: `X-Twilio-Signature` is base64(HMAC-SHA1(auth token, the public
//!   webhook URL followed by every form field name and value, sorted by name)).
//! - Telnyx: `telnyx-signature-ed25519` is base64(Ed25519(account key,
//!   "{telnyx-timestamp}|{body}")), refused when the timestamp is over 5 minutes off.
//! - Vonage (Messages API): `Authorization: Bearer` a JWT (HS256 under the
//!   signature secret) whose `payload_hash` is the body's SHA-256, issued within
//!   the last 5 minutes.
//!
//! A replayed call inside the window finds its message stored already: providers'
//! message ids make every message count once.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use kaito_api::SmsMessageView;
use serde_json::json;
use sha2::Digest as _;
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
    /// The Telnyx account's public key (Mission Control → Keys & Credentials).
    pub telnyx_public_key: Option<ed25519_dalek::VerifyingKey>,
    /// The Vonage account's signature secret.
    pub vonage_signature_secret: Option<Zeroizing<String>>,
}

/// How far a signed webhook's time may be from ours: beyond it, a captured call
/// cannot be replayed.
pub const WEBHOOK_WINDOW_MS: i64 = 5 * 60 * 1000;

impl std::fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsConfig")
            .field("twilio_webhook_url", &self.twilio_webhook_url)
            .field(
                "twilio_auth_token",
                &self.twilio_auth_token.as_ref().map(|_| "…"),
            )
            .field("telnyx_public_key", &self.telnyx_public_key.is_some())
            .field(
                "vonage_signature_secret",
                &self.vonage_signature_secret.as_ref().map(|_| "…"),
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
        return Err(not_configured("Twilio"));
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

fn not_configured(provider: &str) -> ServerError {
    ServerError::NotFound(format!("{provider} is not configured on this server."))
}

/// Handles a Telnyx webhook (JSON). Only `message.received` events carry a text
/// message; other events are acknowledged and dropped.
pub async fn receive_telnyx(
    store: &Store,
    config: &SmsConfig,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now_ms: i64,
) -> Result<Option<SmsArrived>, ServerError> {
    let public_key = config
        .telnyx_public_key
        .as_ref()
        .ok_or_else(|| not_configured("Telnyx"))?;
    let (Some(signature), Some(timestamp)) = (signature, timestamp) else {
        return Err(ServerError::BadSignature);
    };
    let signature = STANDARD
        .decode(signature.trim())
        .ok()
        .and_then(|bytes| ed25519_dalek::Signature::from_slice(&bytes).ok())
        .ok_or(ServerError::BadSignature)?;
    let mut signed = Vec::with_capacity(timestamp.len() + 1 + body.len());
    signed.extend_from_slice(timestamp.trim().as_bytes());
    signed.push(b'|');
    signed.extend_from_slice(body);
    if public_key.verify_strict(&signed, &signature).is_err() {
        tracing::warn!("refused a Telnyx webhook with a wrong signature");
        return Err(ServerError::BadSignature);
    }
    let sent_secs: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| ServerError::BadSignature)?;
    within_window(sent_secs.saturating_mul(1000), now_ms)?;
    let event: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| ServerError::BadRequest(format!("The webhook is not JSON: {error}")))?;
    let data = &event["data"];
    if data["event_type"] != "message.received" {
        return Ok(None);
    }
    let payload = &data["payload"];
    let text_field = |value: &serde_json::Value, name: &str| {
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ServerError::BadRequest(format!("The webhook has no {name}.")))
    };
    let message_id = text_field(&payload["id"], "data.payload.id")?;
    let to = text_field(&payload["to"][0]["phone_number"], "data.payload.to")?;
    let from = text_field(&payload["from"]["phone_number"], "data.payload.from")?;
    let text = payload["text"].as_str().unwrap_or_default();
    store_message(store, "telnyx", &message_id, &to, &from, text, now_ms).await
}

fn within_window(sent_ms: i64, now_ms: i64) -> Result<(), ServerError> {
    if (now_ms - sent_ms).abs() > WEBHOOK_WINDOW_MS {
        tracing::warn!(
            skew_ms = now_ms - sent_ms,
            "refused a signed webhook outside its time window"
        );
        return Err(ServerError::StaleSignature);
    }
    Ok(())
}

/// The claims of a Vonage webhook JWT that Kaito checks.
#[derive(serde::Deserialize)]
struct VonageClaims {
    iat: i64,
    payload_hash: String,
}

/// Handles a Vonage Messages API inbound webhook (JSON, signed JWT).
pub async fn receive_vonage(
    store: &Store,
    config: &SmsConfig,
    authorization: Option<&str>,
    body: &[u8],
    now_ms: i64,
) -> Result<Option<SmsArrived>, ServerError> {
    let secret = config
        .vonage_signature_secret
        .as_ref()
        .ok_or_else(|| not_configured("Vonage"))?;
    let token = authorization
        .and_then(|value| value.trim().strip_prefix("Bearer "))
        .ok_or(ServerError::BadSignature)?;
    let claims = vonage_claims(secret.as_bytes(), token.trim())?;
    let body_hash = crate::secrets::hex(&sha2::Sha256::digest(body));
    if !crate::secrets::constant_time_eq(
        claims.payload_hash.to_ascii_lowercase().as_bytes(),
        body_hash.as_bytes(),
    ) {
        tracing::warn!("refused a Vonage webhook whose body does not match its signature");
        return Err(ServerError::BadSignature);
    }
    within_window(claims.iat.saturating_mul(1000), now_ms)?;
    let message: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| ServerError::BadRequest(format!("The webhook is not JSON: {error}")))?;
    if message["channel"] != "sms" {
        return Ok(None);
    }
    let field = |name: &str| {
        message[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ServerError::BadRequest(format!("The webhook has no {name}.")))
    };
    // Vonage writes numbers without the plus.
    let e164 = |number: String| {
        if number.starts_with('+') {
            number
        } else {
            format!("+{number}")
        }
    };
    let message_id = field("message_uuid")?;
    let to = e164(field("to")?);
    let from = e164(field("from")?);
    let text = message["text"].as_str().unwrap_or_default();
    store_message(store, "vonage", &message_id, &to, &from, text, now_ms).await
}

/// Checks an HS256 JWT's signature and reads its claims.
fn vonage_claims(secret: &[u8], token: &str) -> Result<VonageClaims, ServerError> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ServerError::BadSignature);
    };
    let decode_json = |part: &str| -> Option<serde_json::Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
    };
    // Only HS256: a token naming "none" or another algorithm is refused outright.
    if decode_json(header).ok_or(ServerError::BadSignature)?["alg"] != "HS256" {
        return Err(ServerError::BadSignature);
    }
    let given = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| ServerError::BadSignature)?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(claims.as_bytes());
    if mac.verify_slice(&given).is_err() {
        tracing::warn!("refused a Vonage webhook with a wrong signature");
        return Err(ServerError::BadSignature);
    }
    decode_json(claims)
        .and_then(|claims| serde_json::from_value(claims).ok())
        .ok_or(ServerError::BadSignature)
}

/// A Vonage-style webhook JWT over `body`, as Vonage would send it (for tests
/// and for checking a set-up by hand).
#[must_use]
pub fn vonage_jwt(secret: &[u8], body: &[u8], issued_at_secs: i64) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "iat": issued_at_secs,
        "jti": format!("jti-{issued_at_secs}"),
        "iss": "Vonage",
        "payload_hash": crate::secrets::hex(&sha2::Sha256::digest(body)),
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{header}.{payload}").as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{header}.{payload}.{signature}")
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

    #[test]
    fn vonage_tokens_open_only_with_their_secret_and_alg() {
        let token = vonage_jwt(b"secret", b"{}", 1_700_000_000);
        let claims = vonage_claims(b"secret", &token).unwrap();
        assert_eq!(claims.iat, 1_700_000_000);
        assert!(matches!(
            vonage_claims(b"other", &token),
            Err(ServerError::BadSignature)
        ));
        // The same claims under "alg": "none" with no signature.
        let payload = token.split('.').nth(1).unwrap();
        let none = format!(
            "{}.{payload}.",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#)
        );
        assert!(matches!(
            vonage_claims(b"secret", &none),
            Err(ServerError::BadSignature)
        ));
        assert!(matches!(
            vonage_claims(b"secret", "a.b"),
            Err(ServerError::BadSignature)
        ));
    }
}
