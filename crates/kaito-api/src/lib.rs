//! Wire types shared by the desktop app and the team server. Both sides compile
//! against these definitions so a renamed field breaks the build, not production.
//!
//! With the `openapi` feature every type is also a `utoipa` schema, so the server's
//! `/v1/openapi.json` describes exactly these definitions.

/// Version of the HTTP API; a server answers 400 to clients of a newer major version.
pub const API_VERSION: u32 = 1;

/// `Debug` that names the type and its harmless fields only: passwords, tokens,
/// seeds, codes and message texts never reach a log through `{:?}`.
macro_rules! debug_without_secrets {
    ($name:ident { $($shown:ident),* $(,)? }) => {
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    $(.field(stringify!($shown), &self.$shown))*
                    .finish_non_exhaustive()
            }
        }
    };
}

// One module per resource; every type is also re-exported at the root, the path
// both sides have always used (`kaito_api::NewGrant`).
pub mod accounts;
pub mod audit;
pub mod devices;
pub mod groups;
pub mod ids;
pub mod invites;
pub mod mfa;
pub mod paths;
pub mod responses;
pub mod siem;
pub mod sms;
pub mod sso;
pub mod tokens;

pub use accounts::*;
pub use audit::*;
pub use devices::*;
pub use groups::*;
pub use invites::*;
pub use mfa::*;
pub use responses::*;
pub use siem::*;
pub use sms::*;
pub use sso::*;
pub use tokens::*;

use serde::{Deserialize, Serialize};

mod kinds;
pub use kinds::*;

/// Every error answer: a stable `code` for programs, a `message` for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "hunter2-SECRET";

    fn secret() -> String {
        SECRET.to_owned()
    }

    fn assert_hidden(shown: &[String]) {
        for line in shown {
            assert!(!line.contains(SECRET), "{line}");
        }
    }

    /// `{:?}` of a request shows no password, token or seed, so an error or trace
    /// line that includes one leaks nothing.
    #[test]
    fn requests_debug_without_secrets() {
        let login = LoginRequest {
            email: "a@example.com".into(),
            password: secret(),
        };
        assert_eq!(
            format!("{login:?}"),
            r#"LoginRequest { email: "a@example.com", .. }"#
        );
        let member = NewMember {
            email: "a@example.com".into(),
            name: "A".into(),
            role: Role::Member,
            password: secret(),
        };
        let accept = AcceptInvite {
            token: secret(),
            name: "A".into(),
            password: secret(),
        };
        let refresh = RefreshRequest {
            refresh_token: secret(),
        };
        let token = NewSharedToken {
            uri: format!("otpauth://totp/x?secret={SECRET}"),
        };
        assert_hidden(&[
            format!("{member:?}"),
            format!("{accept:?}"),
            format!("{refresh:?}"),
            format!("{token:?}"),
        ]);
    }

    /// The same for answers: tokens, seeds, codes and message texts.
    #[test]
    fn answers_debug_without_secrets() {
        let pair = TokenPair {
            access_token: secret(),
            access_expires_in_secs: 60,
            refresh_token: secret(),
        };
        let invite = CreatedInvite {
            id: "inv_1".into(),
            token: secret(),
            link: Some(format!("kaito://join?{SECRET}")),
            expires_at: 1,
        };
        let api_token = CreatedApiToken {
            id: "apitok_1".into(),
            token: secret(),
        };
        let seed = SeedView {
            uri: format!("otpauth://totp/x?secret={SECRET}"),
        };
        let codes = CodesView {
            current: secret(),
            next: secret(),
            remaining_secs: 1,
            period: 30,
            server_time: 1,
        };
        let sms = SmsMessageView {
            seq: 1,
            number_id: "num_1".into(),
            phone_number: "+15550100".into(),
            label: String::new(),
            from: "+15550101".into(),
            body: secret(),
            code: Some(secret()),
            received_at: 1,
        };
        assert_hidden(&[
            format!("{pair:?}"),
            format!("{invite:?}"),
            format!("{api_token:?}"),
            format!("{seed:?}"),
            format!("{codes:?}"),
            format!("{sms:?}"),
        ]);
    }
}
