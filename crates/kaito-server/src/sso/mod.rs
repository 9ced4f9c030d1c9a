//! Single sign-on with OpenID Connect, one identity provider per team: the
//! owner's settings ([`settings`]) and the desktop sign-in through the system
//! browser ([`sign_in`]): authorization code with PKCE to a loopback redirect
//! (RFC 8252), the ID token checked against the issuer's keys, `iss`, `aud`,
//! `exp` and the nonce, the email mapped to the member.

mod provider;
pub mod settings;
pub mod sign_in;

use axum::http::StatusCode;

pub use provider::OutboundHttp;

/// Why an SSO setting or sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("This team does not sign in with SSO. Sign in with your password.")]
    NotConfigured,
    #[error("Password sign-in is off for this team: use Sign in with SSO.")]
    SsoOnly,
    #[error("This SSO sign-in expired or was finished already. Start it again.")]
    AttemptInvalid,
    #[error("The identity provider could not be reached: {0}")]
    ProviderUnreachable(String),
    #[error("The identity provider refused the sign-in: {0}")]
    ProviderRefused(String),
    #[error("The identity provider's ID token was refused: {0}")]
    InvalidIdToken(String),
    #[error("The identity provider has not verified the email {0}.")]
    EmailUnverified(String),
    #[error("{0} has no active account in this team. Ask an admin to invite you.")]
    NoMember(String),
    #[error("{0}")]
    InvalidSettings(String),
}

impl SsoError {
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            SsoError::NotConfigured => "sso.not_configured",
            SsoError::SsoOnly => "auth.sso_only",
            SsoError::AttemptInvalid => "sso.attempt_invalid",
            SsoError::ProviderUnreachable(_) => "sso.provider_unreachable",
            SsoError::ProviderRefused(_) => "sso.provider_refused",
            SsoError::InvalidIdToken(_) => "sso.id_token_invalid",
            SsoError::EmailUnverified(_) => "sso.email_unverified",
            SsoError::NoMember(_) => "sso.no_member",
            SsoError::InvalidSettings(_) => "sso.invalid_settings",
        }
    }

    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            SsoError::NotConfigured => StatusCode::NOT_FOUND,
            SsoError::SsoOnly | SsoError::EmailUnverified(_) | SsoError::NoMember(_) => {
                StatusCode::FORBIDDEN
            }
            SsoError::AttemptInvalid
            | SsoError::ProviderRefused(_)
            | SsoError::InvalidIdToken(_) => StatusCode::UNAUTHORIZED,
            SsoError::ProviderUnreachable(_) => StatusCode::BAD_GATEWAY,
            SsoError::InvalidSettings(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// What the audit log says of a refused sign-in.
    fn reason(&self) -> &'static str {
        match self {
            SsoError::ProviderRefused(_) => "provider_refused",
            SsoError::InvalidIdToken(_) => "id_token_invalid",
            SsoError::EmailUnverified(_) => "email_unverified",
            SsoError::NoMember(_) => "no_member",
            SsoError::ProviderUnreachable(_) => "provider_unreachable",
            _ => "refused",
        }
    }
}
