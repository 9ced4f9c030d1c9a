//! One adapter per SMS provider behind [`SmsProvider`]: each checks its own
//! signature scheme and reads its own message shape; storing is shared.
//!
//! - Twilio: `X-Twilio-Signature` is base64(HMAC-SHA1(auth token, the public
//!   webhook URL followed by every form field name and value, sorted by name)).
//! - Telnyx: `telnyx-signature-ed25519` is base64(Ed25519(account key,
//!   "{telnyx-timestamp}|{body}")), refused when the timestamp is over 5 minutes off.
//! - Vonage (Messages API): `Authorization: Bearer` a JWT (HS256 under the
//!   signature secret) whose `payload_hash` is the body's SHA-256, issued within
//!   the last 5 minutes.

pub mod telnyx;
pub mod twilio;
pub mod vonage;

use crate::error::ServerError;

/// How far a signed webhook's time may be from ours: beyond it, a captured call
/// cannot be replayed.
pub const WEBHOOK_WINDOW_MS: i64 = 5 * 60 * 1000;

/// A provider's webhook call, as it arrived: the signature covers the raw bytes.
pub struct WebhookCall<'a> {
    pub headers: &'a axum::http::HeaderMap,
    pub body: &'a [u8],
}

impl WebhookCall<'_> {
    /// A header's value as text (`None` when absent or not text).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

impl std::fmt::Debug for WebhookCall<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body holds the message text: only its size.
        f.debug_struct("WebhookCall")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// A text message a provider delivered. `Debug` leaves the text out: it may hold a code.
pub struct InboundSms {
    /// The provider's id for the message: a retry carries the same one.
    pub message_id: String,
    /// The inbox number, E.164.
    pub to: String,
    /// The sender, E.164.
    pub from: String,
    pub text: String,
}

impl std::fmt::Debug for InboundSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundSms")
            .field("message_id", &self.message_id)
            .field("to", &self.to)
            .field("from", &self.from)
            .field("text", &"…")
            .finish()
    }
}

/// One SMS provider's webhook.
pub trait SmsProvider: Send + Sync {
    /// The name stored with each message (`"twilio"`); with the provider's message
    /// id it makes a message unique.
    fn name(&self) -> &'static str;

    /// Checks the call's signature ([`ServerError::BadSignature`],
    /// [`ServerError::StaleSignature`]) and reads the message it carries: `None`
    /// for an event that is not an incoming text message.
    fn read(&self, call: &WebhookCall<'_>, now_ms: i64) -> Result<Option<InboundSms>, ServerError>;
}

/// Refuses a signed call whose time is outside [`WEBHOOK_WINDOW_MS`] of ours.
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

/// Parses a JSON webhook body.
fn json_body(body: &[u8]) -> Result<serde_json::Value, ServerError> {
    serde_json::from_slice(body)
        .map_err(|error| ServerError::BadRequest(format!("The webhook is not JSON: {error}")))
}

/// A text field of a JSON webhook that Kaito needs; `name` says where it was looked for.
fn text_field(value: &serde_json::Value, name: &str) -> Result<String, ServerError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ServerError::BadRequest(format!("The webhook has no {name}.")))
}
