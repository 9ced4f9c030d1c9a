//! The shared SMS inbox. Providers post each text message to a webhook; the
//! provider's adapter ([`providers`]) checks the signature before anything is
//! stored, a message is stored once however often the provider retries, its
//! one-time code is picked out, and members allowed to read the number get it live.
//!
//! A replayed call inside the window finds its message stored already: providers'
//! message ids make every message count once.

pub mod delivery_log;
mod numbers;
pub mod providers;
mod relay;
pub mod stream_slots;

use kaito_api::AuditKind;
use serde_json::json;
use sqlx::Row as _;
use zeroize::Zeroizing;

use crate::audited::Audited;
use crate::error::ServerError;
use crate::ids::TeamId;
use crate::store::{Backend, Store};

pub use numbers::{
    Delivery, add_number, assign_number, deliver_messages, grant_number, list_numbers,
    remove_number, revoke_number_grant,
};
pub use providers::telnyx::Telnyx;
pub use providers::twilio::{Twilio, twilio_signature};
pub use providers::vonage::{Vonage, vonage_jwt};
pub use providers::{InboundSms, SmsProvider, WEBHOOK_WINDOW_MS, WebhookCall};
pub use relay::{NOTIFY_CHANNEL, relay_notifications};

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
    /// Whether team admins add inbox numbers themselves (`--team-admins-add-numbers`).
    /// Off by default: the numbers live in the operator's provider account, and on
    /// a server with several teams the first admin to claim a number would get
    /// another team's texts. The operator assigns them with `admin add-number`.
    pub team_admins_add_numbers: bool,
}

impl std::fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsConfig")
            .field("twilio_webhook_url", &self.twilio_webhook_url)
            .field(
                "twilio_auth_token",
                &self.twilio_auth_token.as_ref().map(|_| "…"),
            )
            .field("telnyx_public_key", &self.telnyx_public_key.is_some())
            .field("team_admins_add_numbers", &self.team_admins_add_numbers)
            .field(
                "vonage_signature_secret",
                &self.vonage_signature_secret.as_ref().map(|_| "…"),
            )
            .finish()
    }
}

impl SmsConfig {
    /// Twilio's adapter, when this server is configured for it.
    pub fn twilio(&self) -> Result<Twilio<'_>, ServerError> {
        match (&self.twilio_webhook_url, &self.twilio_auth_token) {
            (Some(webhook_url), Some(auth_token)) => Ok(Twilio {
                webhook_url,
                auth_token,
            }),
            _ => Err(not_configured("Twilio")),
        }
    }

    /// Telnyx's adapter, when this server is configured for it.
    pub fn telnyx(&self) -> Result<Telnyx<'_>, ServerError> {
        self.telnyx_public_key
            .as_ref()
            .map(|public_key| Telnyx { public_key })
            .ok_or_else(|| not_configured("Telnyx"))
    }

    /// Vonage's adapter, when this server is configured for it.
    pub fn vonage(&self) -> Result<Vonage<'_>, ServerError> {
        self.vonage_signature_secret
            .as_ref()
            .map(|secret| Vonage {
                signature_secret: secret.as_bytes(),
            })
            .ok_or_else(|| not_configured("Vonage"))
    }
}

fn not_configured(provider: &str) -> ServerError {
    ServerError::NotFound(format!("{provider} is not configured on this server."))
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

/// Handles one webhook call: the provider checks its signature and reads it, then
/// the message is stored. Returns the new message, or `None` for a retry of one
/// already stored, an event that is not a text message, or a number no team holds.
pub async fn receive(
    store: &Store,
    provider: &dyn SmsProvider,
    call: &WebhookCall<'_>,
    now_ms: i64,
) -> Result<Option<SmsArrived>, ServerError> {
    match provider.read(call, now_ms)? {
        Some(message) => store_message(store, provider.name(), &message, now_ms).await,
        None => Ok(None),
    }
}

async fn store_message(
    store: &Store,
    provider: &str,
    message: &InboundSms,
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
        .bind(message.to.as_str())
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
    let code = kaito_core::sms::extract_code(&message.text);
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
    .bind(message.message_id.as_str())
    .bind(message.from.as_str())
    .bind(message.text.as_str())
    .bind(code.as_deref())
    .bind(now_ms)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = inserted else {
        return Ok(None);
    };
    let seq: i64 = row.try_get("seq")?;
    // The log says a message came, not what it said: no body, no code. The server
    // itself records it: no member acted.
    let mut tx = Audited::new(tx, &team_id, None, now_ms);
    tx.record(
        AuditKind::SmsReceived,
        Some(number_id.as_str()),
        json!({ "provider": provider, "message_id": message.message_id, "from": message.from, "seq": seq }),
    )
    .await?;
    if store.backend() == Backend::Postgres {
        // Delivered to every replica's relay when the transaction commits.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(NOTIFY_CHANNEL)
            .bind(team_id.as_str())
            .execute(&mut **tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Some(SmsArrived { team_id, seq }))
}
