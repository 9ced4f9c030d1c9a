//! Twilio's inbound SMS webhook: a signed form.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit as _, Mac as _};

use super::{InboundSms, SmsProvider, WebhookCall};
use crate::error::ServerError;

/// Twilio, with the URL it is configured to call (the signature covers it) and the
/// account's auth token.
pub struct Twilio<'a> {
    pub webhook_url: &'a str,
    pub auth_token: &'a str,
}

impl std::fmt::Debug for Twilio<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Twilio")
            .field("webhook_url", &self.webhook_url)
            .field("auth_token", &"…")
            .finish()
    }
}

impl SmsProvider for Twilio<'_> {
    fn name(&self) -> &'static str {
        "twilio"
    }

    fn read(
        &self,
        call: &WebhookCall<'_>,
        _now_ms: i64,
    ) -> Result<Option<InboundSms>, ServerError> {
        let params: Vec<(String, String)> =
            form_urlencoded::parse(call.body).into_owned().collect();
        let expected = twilio_signature(self.auth_token, self.webhook_url, &params);
        let valid = call.header("x-twilio-signature").is_some_and(|given| {
            crate::secrets::constant_time_eq(given.trim().as_bytes(), expected.as_bytes())
        });
        if !valid {
            tracing::warn!("refused a Twilio webhook with a wrong or missing signature");
            return Err(ServerError::BadSignature);
        }
        Ok(Some(InboundSms {
            message_id: field(&params, "MessageSid")?,
            to: field(&params, "To")?,
            from: field(&params, "From")?,
            text: field(&params, "Body")?,
        }))
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

fn field(params: &[(String, String)], name: &str) -> Result<String, ServerError> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
        .ok_or_else(|| ServerError::BadRequest(format!("The webhook has no {name} field.")))
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
