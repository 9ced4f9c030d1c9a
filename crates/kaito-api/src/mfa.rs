//! A second factor for Kaito accounts: TOTP with one-time recovery codes.

use serde::{Deserialize, Serialize};

use crate::TokenPair;

/// What `POST /v1/auth/login` answers: the session's tokens, or, for an account
/// with a second factor, a challenge to answer at `POST /v1/auth/mfa`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum LoginAnswer {
    SignedIn(TokenPair),
    SecondFactor(MfaChallenge),
}

/// The password was right; a second factor is wanted before a session starts.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaChallenge {
    /// Always true: tells this answer from a [`TokenPair`] at a glance.
    pub mfa_required: bool,
    /// One-time, for `POST /v1/auth/mfa`, within `expires_in_secs`.
    pub challenge: String,
    pub expires_in_secs: u64,
    /// What the account can answer with: `totp`, `recovery_code`.
    pub methods: Vec<String>,
}

debug_without_secrets!(MfaChallenge {
    expires_in_secs,
    methods
});

/// `POST /v1/auth/mfa`: the login challenge and a code from the authenticator, or
/// one of the account's recovery codes.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaAnswer {
    pub challenge: String,
    pub code: String,
}

debug_without_secrets!(MfaAnswer {});

/// `GET /v1/me/mfa`: the caller's second factors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaStatus {
    /// A confirmed authenticator (TOTP) is required at sign-in.
    pub totp: bool,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u32,
}

/// `POST /v1/me/mfa/totp`: a new authenticator secret to scan, not in force until
/// confirmed with its first code.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotpEnrolment {
    /// Base32, for typing in by hand.
    pub secret: String,
    /// `otpauth://totp/…`, for a QR code.
    pub otpauth_uri: String,
}

debug_without_secrets!(TotpEnrolment {});

/// `POST /v1/me/mfa/totp/confirm`: the authenticator's current code, and the
/// account's password (a borrowed session alone must not tie the account to
/// someone else's phone).
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotpConfirm {
    pub code: String,
    pub current_password: String,
}

debug_without_secrets!(TotpConfirm {});

/// The account's recovery codes, shown this once; each works once in place of an
/// authenticator code. Only their hashes are kept.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

debug_without_secrets!(RecoveryCodes {});

/// `POST /v1/me/mfa/remove` and `POST /v1/me/mfa/recovery-codes`: turning the
/// second factor off, or new recovery codes, want the password.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrentPassword {
    pub current_password: String,
}

debug_without_secrets!(CurrentPassword {});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_answer_is_told_apart_by_its_fields() {
        let signed: LoginAnswer = serde_json::from_value(serde_json::json!({
            "access_token": "a", "access_expires_in_secs": 900, "refresh_token": "r"
        }))
        .unwrap();
        assert!(matches!(signed, LoginAnswer::SignedIn(_)));
        let challenged: LoginAnswer = serde_json::from_value(serde_json::json!({
            "mfa_required": true, "challenge": "kmc_x", "expires_in_secs": 300,
            "methods": ["totp", "recovery_code"]
        }))
        .unwrap();
        assert!(matches!(challenged, LoginAnswer::SecondFactor(c) if c.challenge == "kmc_x"));
    }
}

/// `POST /v1/auth/mfa/enrol`: the login challenge of an account its team wants a
/// second factor of (`methods: ["enrol_totp"]`).
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolChallenge {
    pub challenge: String,
}

debug_without_secrets!(EnrolChallenge {});

/// `POST /v1/auth/mfa/enrol/confirm`: signed in, with the new authenticator in
/// force and its recovery codes, shown this once.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolledSignIn {
    pub tokens: TokenPair,
    pub recovery_codes: RecoveryCodes,
}

debug_without_secrets!(EnrolledSignIn {});

/// `GET/PUT /v1/team/mfa-policy`: whether everyone in the team must sign in with
/// a second factor (those without one set it up at their next sign-in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaPolicy {
    pub required: bool,
}
