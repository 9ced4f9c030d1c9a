//! Typed ids: a user id cannot be passed where a team id is expected.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// 16 random bytes, URL-safe: unguessable, and the same text in either database.
fn random_id(prefix: &str) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(format!(
        "{prefix}_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

macro_rules! typed_id {
    ($name:ident, $prefix:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn generate() -> Result<Self, getrandom::Error> {
                random_id($prefix).map(Self)
            }

            /// An id read back from the database.
            #[must_use]
            pub fn from_stored(text: String) -> Self {
                Self(text)
            }

            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

typed_id!(TeamId, "team");
typed_id!(UserId, "user");
typed_id!(SessionId, "sess");
typed_id!(TokenId, "tok");
typed_id!(GroupId, "grp");
typed_id!(GrantId, "grant");
typed_id!(EventId, "evt");
typed_id!(ApiTokenId, "apitok");
typed_id!(NumberId, "num");
typed_id!(DeviceId, "dev");
typed_id!(SinkId, "sink");
typed_id!(InviteId, "inv");
typed_id!(NotificationId, "note");
