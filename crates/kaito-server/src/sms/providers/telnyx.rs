//! Telnyx's messaging webhook: JSON signed with the account's Ed25519 key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{InboundSms, SmsProvider, WebhookCall, json_body, text_field, within_window};
use crate::error::ServerError;

/// Telnyx, with the account's public key (Mission Control → Keys & Credentials).
#[derive(Debug)]
pub struct Telnyx<'a> {
    pub public_key: &'a ed25519_dalek::VerifyingKey,
}

impl SmsProvider for Telnyx<'_> {
    fn name(&self) -> &'static str {
        "telnyx"
    }

    /// Only `message.received` events carry a text message; other events are
    /// acknowledged and dropped.
    fn read(&self, call: &WebhookCall<'_>, now_ms: i64) -> Result<Option<InboundSms>, ServerError> {
        let (Some(signature), Some(timestamp)) = (
            call.header("telnyx-signature-ed25519"),
            call.header("telnyx-timestamp"),
        ) else {
            return Err(ServerError::BadSignature);
        };
        let signature = STANDARD
            .decode(signature.trim())
            .ok()
            .and_then(|bytes| ed25519_dalek::Signature::from_slice(&bytes).ok())
            .ok_or(ServerError::BadSignature)?;
        let mut signed = Vec::with_capacity(timestamp.len() + 1 + call.body.len());
        signed.extend_from_slice(timestamp.trim().as_bytes());
        signed.push(b'|');
        signed.extend_from_slice(call.body);
        if self.public_key.verify_strict(&signed, &signature).is_err() {
            tracing::warn!("refused a Telnyx webhook with a wrong signature");
            return Err(ServerError::BadSignature);
        }
        let sent_secs: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| ServerError::BadSignature)?;
        within_window(sent_secs.saturating_mul(1000), now_ms)?;
        let event = json_body(call.body)?;
        let data = &event["data"];
        if data["event_type"] != "message.received" {
            return Ok(None);
        }
        let payload = &data["payload"];
        Ok(Some(InboundSms {
            message_id: text_field(&payload["id"], "data.payload.id")?,
            to: text_field(&payload["to"][0]["phone_number"], "data.payload.to")?,
            from: text_field(&payload["from"]["phone_number"], "data.payload.from")?,
            text: payload["text"].as_str().unwrap_or_default().to_owned(),
        }))
    }
}
