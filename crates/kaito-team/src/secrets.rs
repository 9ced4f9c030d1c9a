//! The keychain entry a sign-in leaves behind: the rotating refresh token and the
//! device's Ed25519 key. Zeroized on drop, never printed.

use kaito_vault::VaultError;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::TeamError;

/// The keychain entry: what signing in leaves behind besides the link.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub(crate) struct TeamSecrets {
    pub(crate) refresh_token: String,
    /// Base64 Ed25519 secret key of this device.
    pub(crate) device_key: String,
}

impl std::fmt::Debug for TeamSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TeamSecrets(<redacted>)")
    }
}

impl TeamSecrets {
    pub(crate) fn to_text(&self) -> Result<Zeroizing<String>, TeamError> {
        serde_json::to_string(self)
            .map(Zeroizing::new)
            .map_err(|error| TeamError::Protocol(format!("sign-in secrets: {error}")))
    }

    pub(crate) fn from_text(text: &str) -> Result<Self, TeamError> {
        serde_json::from_str(text).map_err(|_| {
            TeamError::Vault(VaultError::Keychain {
                detail: "the team sign-in entry in the keychain is damaged".to_owned(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_and_a_damaged_entry_is_a_keychain_error() {
        let secrets = TeamSecrets {
            refresh_token: "r".to_owned(),
            device_key: "k".to_owned(),
        };
        let text = secrets.to_text().unwrap();
        assert_eq!(TeamSecrets::from_text(&text).unwrap().refresh_token, "r");
        assert_eq!(
            TeamSecrets::from_text("not json").unwrap_err().code(),
            "vault.keychain_failed"
        );
    }
}
