//! Manual entry: a token typed in from a service's "can't scan the code?" page.
//! Validation is per field so the form can say what is wrong next to each input as
//! the user types; a seed never appears in a message.

use serde::{Deserialize, Serialize};

use crate::secret::{Secret, SecretError};
use crate::token::{Algorithm, OtpKind, Token, TokenError};

/// What the form holds. Numbers arrive already parsed; an empty numeric field is the
/// form's job to fill with the default shown in it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManualEntry {
    pub issuer: String,
    pub account: String,
    /// The base32 secret as typed: any case, spaces and dashes allowed.
    pub secret: String,
    /// "totp", "hotp" or "steam".
    pub kind: String,
    /// "SHA1", "SHA256" or "SHA512" (ignored for Steam).
    pub algorithm: String,
    pub digits: u32,
    /// Seconds (TOTP and Steam).
    pub period: u32,
    /// Starting counter (HOTP).
    pub counter: u64,
}

/// A form field with a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    Name,
    Secret,
    Kind,
    Algorithm,
    Digits,
    Period,
}

/// One problem, worded for the person typing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: Field,
    pub message: String,
}

impl FieldError {
    fn new(field: Field, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Longest period accepted by hand: a day. Longer ones are typos (seconds typed as ms).
const MAX_PERIOD: u32 = 86_400;

/// Builds the token, or lists every field that needs fixing.
pub fn build(entry: &ManualEntry) -> Result<Token, Vec<FieldError>> {
    let mut errors = Vec::new();
    let issuer = entry.issuer.trim();
    let account = entry.account.trim();
    if issuer.is_empty() && account.is_empty() {
        errors.push(FieldError::new(
            Field::Name,
            "Give the token a name: the service (issuer), the account, or both.",
        ));
    }
    let secret = match Secret::from_base32(&entry.secret) {
        Ok(secret) => Some(secret),
        Err(error) => {
            errors.push(FieldError::new(Field::Secret, secret_message(&error)));
            None
        }
    };
    let algorithm = Algorithm::from_name(entry.algorithm.trim()).ok();
    if algorithm.is_none() {
        errors.push(FieldError::new(
            Field::Algorithm,
            "Choose SHA1, SHA256 or SHA512.",
        ));
    }
    let period_ok = |errors: &mut Vec<FieldError>| {
        if entry.period == 0 || entry.period > MAX_PERIOD {
            errors.push(FieldError::new(
                Field::Period,
                "The period is in seconds, from 1 to 86400 (most services use 30).",
            ));
        }
    };
    let kind = match entry.kind.trim().to_ascii_lowercase().as_str() {
        "totp" => {
            period_ok(&mut errors);
            Some((
                OtpKind::Totp {
                    period: entry.period,
                },
                entry.digits,
            ))
        }
        "steam" => {
            period_ok(&mut errors);
            // Steam codes always have 5 characters; the digits field does not apply.
            Some((
                OtpKind::Steam {
                    period: entry.period,
                },
                5,
            ))
        }
        "hotp" => Some((
            OtpKind::Hotp {
                counter: entry.counter,
            },
            entry.digits,
        )),
        _ => {
            errors.push(FieldError::new(
                Field::Kind,
                "Choose time-based (TOTP), counter-based (HOTP) or Steam.",
            ));
            None
        }
    };
    if let Some((OtpKind::Totp { .. } | OtpKind::Hotp { .. }, digits)) = kind
        && !(6..=8).contains(&digits)
    {
        errors.push(FieldError::new(
            Field::Digits,
            "Codes have 6, 7 or 8 digits (most services use 6).",
        ));
    }
    let (Some(secret), Some(algorithm), Some((kind, digits)), true) =
        (secret, algorithm, kind, errors.is_empty())
    else {
        return Err(errors);
    };
    Token::new(issuer, account, kind, algorithm, digits, secret).map_err(|error| {
        let field = match error {
            TokenError::Digits { .. } => Field::Digits,
            TokenError::Period { .. } => Field::Period,
            TokenError::Algorithm { .. } => Field::Algorithm,
        };
        vec![FieldError::new(field, error.to_string())]
    })
}

fn secret_message(error: &SecretError) -> String {
    match error {
        SecretError::Empty => {
            "Paste or type the secret key the service shows (letters A–Z and digits 2–7)."
                .to_owned()
        }
        SecretError::InvalidBase32 { position } => format!(
            "Character {} of the secret is not valid: secret keys use only the letters A–Z and the digits 2–7.",
            position + 1
        ),
        SecretError::BadLength { .. } => {
            "The secret looks cut short or has an extra character: check that you copied all of it."
                .to_owned()
        }
    }
}
