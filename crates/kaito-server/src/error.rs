//! Every way a request can fail, each with its HTTP status and stable code.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kaito_api::{ApiError, Role};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("The email or the password is wrong.")]
    InvalidCredentials,
    #[error("Too many failed sign-ins for this account. Try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    #[error(
        "Too many sign-in attempts from your network address. Try again in {retry_after_secs} seconds."
    )]
    AddressRateLimited { retry_after_secs: u64 },
    #[error(
        "The server is busy checking other passwords. Try again in {retry_after_secs} seconds."
    )]
    Busy { retry_after_secs: u64 },
    #[error("Sign in first: the access token is missing, expired or revoked.")]
    Unauthenticated,
    #[error("This refresh token is no longer valid. Sign in again.")]
    InvalidRefresh,
    #[error("This needs the {need} role; you are {have}.", need = need.as_str(), have = have.as_str())]
    Forbidden { have: Role, need: Role },
    #[error("This API token lacks the {0} scope.")]
    MissingScope(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("The sink's target is refused: {0}.")]
    SinkAddressRefused(#[from] crate::siem::RefusedAddress),
    #[error(
        "{0} sends the audit log in the clear. Use TLS (https://, syslog over TLS), or set insecure to accept cleartext."
    )]
    CleartextSink(String),
    #[error("An account with the email {0} exists already.")]
    EmailTaken(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NoGrant(String),
    #[error(
        "On this server the operator assigns inbox numbers to teams (`kaito-server admin add-number`); ask them to add it."
    )]
    OperatorAssignsNumbers,
    #[error(
        "Your grant to this token is code-only: the server gives you its codes, never its seed."
    )]
    CodeOnly,
    #[error("The signature is wrong or missing.")]
    BadSignature,
    #[error(
        "The signed time is more than 5 minutes off: a replayed call, or a clock that is wrong."
    )]
    StaleSignature,
    #[error("This device is not enrolled to you, or it was revoked.")]
    UnknownDevice,
    #[error(
        "This invite link does not work: it was used already, revoked, or it expired. Ask an admin for a new one."
    )]
    InvalidInvite,
    #[error(
        "This device sent too many audit events. It sends them again in {retry_after_secs} seconds."
    )]
    DeviceRateLimited { retry_after_secs: u64 },
    #[error(
        "Admins cannot give themselves a token's full seed (directly or through a group they are in); ask an owner."
    )]
    OwnSeedGrant,
    #[error(
        "You have {max} live inbox streams open already; close one (another device or window) first."
    )]
    TooManyStreams { max: usize },
    #[error(
        "This email cannot be added to your team. Send an invite: whoever owns the email will be told why it cannot join."
    )]
    EmailUnavailable,
    #[error("the audit log could not be written: {0}")]
    AuditWrite(String),
    #[error("The current password is wrong.")]
    WrongPassword,
    #[error(
        "This set-password link does not work: it was used already, replaced by a newer one, or it expired. Ask an admin for a new one."
    )]
    InvalidPasswordLink,
    #[error(
        "The code is wrong, or it was used already. Type the authenticator's current code, or an unused recovery code."
    )]
    InvalidSecondFactor,
    #[error("This sign-in expired or was finished already. Sign in again with your password.")]
    InvalidMfaChallenge,
    #[error("{0}")]
    MfaState(String),
    #[error(transparent)]
    Sso(#[from] crate::sso::SsoError),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the database could not be migrated: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("the stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error(
        "The audit chain of team {team} is broken at event {seq}: an event was changed or removed."
    )]
    ChainBroken { team: String, seq: i64 },
    #[error("an audited transaction recorded no event, so nothing was committed")]
    Unaudited,
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    #[error("the system has no randomness: {0}")]
    Random(#[from] getrandom::Error),
    #[error("{0}")]
    Startup(String),
}

impl ServerError {
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ServerError::InvalidCredentials => "auth.invalid_credentials",
            ServerError::RateLimited { .. } => "auth.rate_limited",
            ServerError::AddressRateLimited { .. } => "auth.address_rate_limited",
            ServerError::Busy { .. } => "server.busy",
            ServerError::Unauthenticated => "auth.unauthenticated",
            ServerError::InvalidRefresh => "auth.invalid_refresh",
            ServerError::Forbidden { .. } => "auth.forbidden",
            ServerError::MissingScope(_) => "auth.scope",
            ServerError::BadRequest(_) => "request.invalid",
            ServerError::SinkAddressRefused(_) => "siem.address_refused",
            ServerError::CleartextSink(_) => "siem.cleartext",
            ServerError::EmailTaken(_) => "account.email_taken",
            ServerError::NotFound(_) => "not_found",
            ServerError::Conflict(_) => "conflict",
            ServerError::NoGrant(_) => "grant.none",
            ServerError::OperatorAssignsNumbers => "sms.operator_assigns_numbers",
            ServerError::CodeOnly => "grant.code_only",
            ServerError::BadSignature => "signature.invalid",
            ServerError::StaleSignature => "signature.stale",
            ServerError::UnknownDevice => "device.unknown",
            ServerError::InvalidInvite => "invite.invalid",
            ServerError::WrongPassword => "auth.wrong_password",
            ServerError::EmailUnavailable => "account.email_unavailable",
            ServerError::TooManyStreams { .. } => "sms.too_many_streams",
            ServerError::OwnSeedGrant => "grant.own_seed",
            ServerError::DeviceRateLimited { .. } => "device.rate_limited",
            ServerError::InvalidPasswordLink => "auth.invalid_password_link",
            ServerError::InvalidSecondFactor => "auth.invalid_second_factor",
            ServerError::InvalidMfaChallenge => "auth.mfa_challenge_invalid",
            ServerError::MfaState(_) => "mfa.state",
            ServerError::Sso(error) => error.code(),
            ServerError::Database(_)
            | ServerError::Migration(_)
            | ServerError::Corrupt(_)
            | ServerError::ChainBroken { .. }
            | ServerError::Unaudited
            | ServerError::AuditWrite(_)
            | ServerError::PasswordHash(_)
            | ServerError::Random(_) => "server.internal",
            ServerError::Startup(_) => "server.startup",
        }
    }

    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            ServerError::Sso(error) => error.status(),
            ServerError::InvalidCredentials
            | ServerError::Unauthenticated
            | ServerError::InvalidRefresh
            | ServerError::InvalidSecondFactor
            | ServerError::InvalidMfaChallenge => StatusCode::UNAUTHORIZED,
            ServerError::RateLimited { .. }
            | ServerError::AddressRateLimited { .. }
            | ServerError::DeviceRateLimited { .. }
            | ServerError::TooManyStreams { .. } => StatusCode::TOO_MANY_REQUESTS,
            ServerError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ServerError::Forbidden { .. }
            | ServerError::MissingScope(_)
            | ServerError::NoGrant(_)
            | ServerError::OperatorAssignsNumbers
            | ServerError::CodeOnly
            | ServerError::BadSignature
            | ServerError::StaleSignature
            | ServerError::UnknownDevice
            | ServerError::OwnSeedGrant
            // Not 401: the caller is signed in; only the password they typed is wrong.
            | ServerError::WrongPassword => StatusCode::FORBIDDEN,
            ServerError::NotFound(_) => StatusCode::NOT_FOUND,
            ServerError::InvalidInvite | ServerError::InvalidPasswordLink => StatusCode::GONE,
            ServerError::BadRequest(_)
            | ServerError::SinkAddressRefused(_)
            | ServerError::CleartextSink(_) => StatusCode::BAD_REQUEST,
            ServerError::EmailTaken(_)
            | ServerError::EmailUnavailable
            | ServerError::MfaState(_)
            | ServerError::Conflict(_) => StatusCode::CONFLICT,
            // Listed, not `_`: a new error must choose its status.
            ServerError::Database(_)
            | ServerError::Migration(_)
            | ServerError::Corrupt(_)
            | ServerError::ChainBroken { .. }
            | ServerError::Unaudited
            | ServerError::AuditWrite(_)
            | ServerError::PasswordHash(_)
            | ServerError::Random(_)
            | ServerError::Startup(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let status = self.status();
        // Internal details go to the log, not to the client.
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "request failed");
            "The server failed. The error is in its log.".to_owned()
        } else {
            self.to_string()
        };
        let body = ApiError {
            code: self.code().to_owned(),
            message,
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let ServerError::RateLimited { retry_after_secs }
        | ServerError::AddressRateLimited { retry_after_secs }
        | ServerError::DeviceRateLimited { retry_after_secs }
        | ServerError::Busy { retry_after_secs } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}
