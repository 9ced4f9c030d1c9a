//! The Vonage Messages API inbound webhook: JSON, with a signed JWT that names
//! the body's hash.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Digest as _;

use super::{InboundSms, SmsProvider, WebhookCall, json_body, text_field, within_window};
use crate::error::ServerError;

/// Vonage, with the account's signature secret.
pub struct Vonage<'a> {
    pub signature_secret: &'a [u8],
}

impl std::fmt::Debug for Vonage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vonage")
            .field("signature_secret", &"…")
            .finish()
    }
}

impl SmsProvider for Vonage<'_> {
    fn name(&self) -> &'static str {
        "vonage"
    }

    /// Only `channel: sms` messages are stored.
    fn read(&self, call: &WebhookCall<'_>, now_ms: i64) -> Result<Option<InboundSms>, ServerError> {
        let token = call
            .header("authorization")
            .and_then(|value| value.trim().strip_prefix("Bearer "))
            .ok_or(ServerError::BadSignature)?;
        let claims = vonage_claims(self.signature_secret, token.trim())?;
        let body_hash = crate::secrets::hex(&sha2::Sha256::digest(call.body));
        if !crate::secrets::constant_time_eq(
            claims.payload_hash.to_ascii_lowercase().as_bytes(),
            body_hash.as_bytes(),
        ) {
            tracing::warn!("refused a Vonage webhook whose body does not match its signature");
            return Err(ServerError::BadSignature);
        }
        within_window(claims.iat.saturating_mul(1000), now_ms)?;
        let message = json_body(call.body)?;
        if message["channel"] != "sms" {
            return Ok(None);
        }
        Ok(Some(InboundSms {
            message_id: text_field(&message["message_uuid"], "message_uuid")?,
            to: e164(text_field(&message["to"], "to")?),
            from: e164(text_field(&message["from"], "from")?),
            text: message["text"].as_str().unwrap_or_default().to_owned(),
        }))
    }
}

/// Vonage writes numbers without the plus.
fn e164(number: String) -> String {
    if number.starts_with('+') {
        number
    } else {
        format!("+{number}")
    }
}

/// The claims of a Vonage webhook JWT that Kaito checks.
#[derive(serde::Deserialize)]
struct VonageClaims {
    iat: i64,
    payload_hash: String,
}

/// Checks an HS256 JWT's signature and reads its claims.
fn vonage_claims(secret: &[u8], token: &str) -> Result<VonageClaims, ServerError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#)
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
