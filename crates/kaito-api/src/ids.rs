//! Typed ids: a user id cannot be passed where a team id is expected, and an id
//! read from input is checked before it reaches a path or a query.
//!
//! Making new ids (random bytes) is the server's job; see `kaito_server::ids::NewId`.

use serde::{Deserialize, Serialize};

/// Whether `text` has the shape of an id under `prefix`: the prefix, `_`, then
/// URL-safe base64. Anything else names nothing that could exist.
fn well_formed(prefix: &str, text: &str) -> bool {
    text.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|rest| {
            (1..=64).contains(&rest.len())
                && rest
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
        })
}

/// An id given as input that cannot be one: wrong prefix, empty, or other characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{text}” is not {what} id.")]
pub struct MalformedId {
    pub text: String,
    /// What the id would name, with its article: "a shared token".
    pub what: &'static str,
}

/// What every typed id has: the prefix its text starts with.
pub trait TypedId: Sized {
    const PREFIX: &'static str;

    /// An id read back from storage or made by the server (trusted: not checked).
    fn from_stored(text: String) -> Self;
}

macro_rules! typed_id {
    ($name:ident, $prefix:literal, $what:literal) => {
        /// Serialized as its text; deserialized (from input) only when well formed.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl std::str::FromStr for $name {
            type Err = MalformedId;

            fn from_str(text: &str) -> Result<Self, MalformedId> {
                if well_formed($prefix, text) {
                    Ok(Self(text.to_owned()))
                } else {
                    Err(MalformedId {
                        text: text.to_owned(),
                        what: $what,
                    })
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer)?
                    .parse()
                    .map_err(serde::de::Error::custom)
            }
        }

        impl TypedId for $name {
            const PREFIX: &'static str = $prefix;

            fn from_stored(text: String) -> Self {
                Self(text)
            }
        }

        impl $name {
            /// An id read back from the database (trusted: not checked).
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

typed_id!(TeamId, "team", "a team");
typed_id!(UserId, "user", "a member");
typed_id!(SessionId, "sess", "a session");
typed_id!(TokenId, "tok", "a shared token");
typed_id!(GroupId, "grp", "a group");
typed_id!(GrantId, "grant", "a grant");
typed_id!(EventId, "evt", "an event");
typed_id!(ApiTokenId, "apitok", "an API token");
typed_id!(NumberId, "num", "a phone number");
typed_id!(DeviceId, "dev", "a device");
typed_id!(SinkId, "sink", "a sink");
typed_id!(InviteId, "inv", "an invite");
typed_id!(NotificationId, "note", "a notification");
typed_id!(PasswordLinkId, "pwl", "a set-password link");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_ids_must_have_their_prefix_and_alphabet() {
        // Made-up but well formed: the store answers whether it exists.
        let made = "tok_made_up".parse::<TokenId>().unwrap();
        assert_eq!(made.as_str(), "tok_made_up");
        for bad in [
            "", "tok", "tok_", "grp_abc", "tok_a/b", "tok_a b", "xtok_abc",
        ] {
            let error = bad.parse::<TokenId>().unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("“{bad}” is not a shared token id.")
            );
        }
        assert!(serde_json::from_str::<GroupId>(r#""tok_abc""#).is_err());
        assert_eq!(
            serde_json::to_string(&GroupId::from_stored("grp_abc".to_owned())).unwrap(),
            r#""grp_abc""#
        );
    }
}
