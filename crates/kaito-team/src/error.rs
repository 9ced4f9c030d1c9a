//! Why a team call failed, with a stable code for the UI.

use std::time::Duration;

use kaito_vault::VaultError;

/// Why a team operation failed; [`TeamError::code`] is what the UI shows.
#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error(
        "“{0}” is not a team server address: use https://…, or http:// only for this computer (localhost)"
    )]
    BadUrl(String),
    #[error("this is not a Kaito invite link: {0}")]
    BadJoinLink(String),
    #[error("this is not a Kaito set-password link: {0}")]
    BadPasswordLink(String),
    #[error("the team server at {url} cannot be reached: {detail}")]
    Unreachable { url: String, detail: String },
    /// The server said no, with its own code and message.
    #[error("{message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("this device is not signed in to a team")]
    NotLinked,
    /// The password was right; the account wants its second factor next.
    #[error("Type the code your authenticator app shows for this account, or a recovery code.")]
    SecondFactorRequired,
    /// The password was right; the team requires a second factor the account
    /// does not have yet: one is set up to finish the sign-in.
    #[error(
        "Your team requires two-step sign-in: set up an authenticator app to finish signing in."
    )]
    SecondFactorSetupRequired,
    #[error("This sign-in waits for no code: sign in with your password first.")]
    NoPendingSignIn,
    #[error("Kaito cannot listen for the browser's return on this computer: {0}")]
    SsoLoopback(String),
    #[error("The system browser could not be opened: {0}")]
    NoBrowser(String),
    #[error("The SSO sign-in was not finished in the browser in time. Start it again.")]
    SsoTimedOut,
    #[error("The SSO sign-in was cancelled.")]
    SsoCancelled,
    #[error("The identity provider did not sign you in ({0}).")]
    SsoRefusedByProvider(String),
    /// Signing out (or in as someone else) would drop events not yet in the
    /// team's log.
    #[error(
        "{count} code views or copies have not reached the team's log yet ({why}). Connect to the team server and try again, or sign out anyway to discard them."
    )]
    UnsentEvents { count: u64, why: String },
    /// The server asked to wait (HTTP 429 with `Retry-After`).
    #[error("the team server is busy; trying again in {} s", after.as_secs())]
    RetryLater { after: Duration },
    #[error("the team sign-in has ended (signed out, disabled or expired); sign in again")]
    SignedOut,
    #[error("Team mode needs the system keychain, which is not available.")]
    NoKeychain,
    #[error("No code for this token yet.")]
    NoCode,
    #[error("That message is no longer in the inbox.")]
    NoMessage,
    #[error("No code was found in that message.")]
    NoCodeInMessage,
    #[error("The kept seed of this token cannot be used: {0}")]
    BadSeed(String),
    #[error("The server closed the inbox stream.")]
    StreamClosed,
    #[error("the team server answered something Kaito does not understand: {0}")]
    Protocol(String),
    /// An id from the UI or a link that cannot name anything (wrong prefix or characters).
    #[error(transparent)]
    BadId(#[from] kaito_api::ids::MalformedId),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl TeamError {
    /// A stable code for the UI: the server's own for its refusals
    /// (`auth.invalid_credentials`, `grant.none`…), `team.*` for the rest.
    #[must_use]
    pub fn code(&self) -> String {
        match self {
            Self::BadUrl(_) => "team.bad_url".to_owned(),
            Self::BadJoinLink(_) => "team.bad_join_link".to_owned(),
            Self::BadPasswordLink(_) => "team.bad_password_link".to_owned(),
            Self::Unreachable { .. } => "team.unreachable".to_owned(),
            Self::Refused { code, .. } => code.clone(),
            Self::NotLinked => "team.not_linked".to_owned(),
            Self::SecondFactorRequired => "team.second_factor_required".to_owned(),
            Self::SecondFactorSetupRequired => "team.second_factor_setup_required".to_owned(),
            Self::NoPendingSignIn => "team.no_pending_sign_in".to_owned(),
            Self::SsoLoopback(_) => "team.sso_loopback".to_owned(),
            Self::NoBrowser(_) => "team.no_browser".to_owned(),
            Self::SsoTimedOut => "team.sso_timed_out".to_owned(),
            Self::SsoCancelled => "team.sso_cancelled".to_owned(),
            Self::SsoRefusedByProvider(_) => "team.sso_refused".to_owned(),
            Self::UnsentEvents { .. } => "team.unsent_events".to_owned(),
            Self::RetryLater { .. } => "team.retry_later".to_owned(),
            Self::SignedOut => "team.signed_out".to_owned(),
            Self::Protocol(_) => "team.protocol".to_owned(),
            Self::NoKeychain => "vault.keychain_unavailable".to_owned(),
            Self::NoCode | Self::NoCodeInMessage => "team.no_code".to_owned(),
            Self::NoMessage => "team.no_message".to_owned(),
            Self::BadSeed(_) => "team.bad_seed".to_owned(),
            Self::StreamClosed => "team.stream_closed".to_owned(),
            Self::BadId(_) => "team.bad_id".to_owned(),
            Self::Vault(error) => error.code().to_owned(),
        }
    }
}
