//! Where the 256-bit vault key lives: the OS keychain, through keyring-core and the
//! platform's native store. Entries are namespaced by build channel and profile so a
//! development build or a test can never read or overwrite a user's real key.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry, Error as KeyringError};
use zeroize::Zeroizing;

use crate::error::VaultError;

/// Length of the vault key in bytes (AES-256).
pub const VAULT_KEY_LEN: usize = 32;

/// Prefix of the keychain value: lets a future key format coexist and makes a
/// foreign value in the slot detectable instead of silently misused.
const KEY_TEXT_PREFIX: &str = "kaito-vault-key-v1:";

/// The vault's root key. Zeroized on drop; `Debug` never shows it.
#[derive(Clone)]
pub struct VaultKey(Zeroizing<[u8; VAULT_KEY_LEN]>);

impl VaultKey {
    /// A fresh key from the OS CSPRNG.
    pub fn generate() -> Result<Self, VaultError> {
        let mut bytes = Zeroizing::new([0u8; VAULT_KEY_LEN]);
        getrandom::fill(bytes.as_mut())?;
        Ok(Self(bytes))
    }

    /// Wraps existing key bytes (unwrapped from a passphrase, read from a store).
    #[must_use]
    pub fn from_bytes(bytes: Zeroizing<[u8; VAULT_KEY_LEN]>) -> Self {
        Self(bytes)
    }

    #[must_use]
    pub fn expose(&self) -> &[u8; VAULT_KEY_LEN] {
        &self.0
    }

    /// Text form kept in the keychain: several backends only store text reliably.
    fn to_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(KEY_TEXT_PREFIX.len() + 44));
        text.push_str(KEY_TEXT_PREFIX);
        text.push_str(&Zeroizing::new(
            data_encoding::BASE64URL_NOPAD.encode(self.0.as_ref()),
        ));
        text
    }

    fn from_text(text: &str) -> Option<Self> {
        let encoded = text.strip_prefix(KEY_TEXT_PREFIX)?;
        let decoded = Zeroizing::new(
            data_encoding::BASE64URL_NOPAD
                .decode(encoded.as_bytes())
                .ok()?,
        );
        let mut bytes = Zeroizing::new([0u8; VAULT_KEY_LEN]);
        if decoded.len() != VAULT_KEY_LEN {
            return None;
        }
        bytes.copy_from_slice(&decoded);
        Some(Self(bytes))
    }
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultKey(<redacted>)")
    }
}

/// Which build wrote the entry. Debug builds (and therefore every test) use the
/// `Development` service name, so they never see a release build's entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Release,
    Development,
}

impl Channel {
    /// The channel of the running build.
    #[must_use]
    pub fn current() -> Self {
        if cfg!(debug_assertions) {
            Self::Development
        } else {
            Self::Release
        }
    }

    /// Keychain service name for the channel.
    #[must_use]
    pub fn service(self) -> &'static str {
        match self {
            Self::Release => "dev.kaito.authenticator",
            Self::Development => "dev.kaito.authenticator.dev",
        }
    }
}

/// Identifies one vault's key entry: service from the channel, user from the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyNamespace {
    pub channel: Channel,
    /// Caller-chosen profile/vault id ("default", a test's UUID…).
    pub profile: String,
}

impl KeyNamespace {
    #[must_use]
    pub fn new(channel: Channel, profile: impl Into<String>) -> Self {
        Self {
            channel,
            profile: profile.into(),
        }
    }

    /// The running build's channel with `profile`.
    #[must_use]
    pub fn current(profile: impl Into<String>) -> Self {
        Self::new(Channel::current(), profile)
    }

    #[must_use]
    pub fn service(&self) -> &'static str {
        self.channel.service()
    }

    /// Keychain "user"/account of the entry.
    #[must_use]
    pub fn user(&self) -> String {
        format!("vault-key:{}", self.profile)
    }
}

/// Storage for the vault key. Implementations are blocking (keychain calls talk to
/// another process); the vault calls them off the async runtime.
pub trait KeyStore: Send + Sync + fmt::Debug {
    /// The stored key, `None` when there is no entry.
    fn load(&self) -> Result<Option<VaultKey>, VaultError>;
    /// Creates or replaces the entry.
    fn store(&self, key: &VaultKey) -> Result<(), VaultError>;
    /// Removes the entry; removing a missing entry is not an error.
    fn delete(&self) -> Result<(), VaultError>;
}

/// The vault key in a keyring-core credential store: the native OS keychain in the
/// app and integration tests, keyring-core's mock store in unit tests.
pub struct KeychainKeyStore {
    store: Arc<CredentialStore>,
    namespace: KeyNamespace,
    /// Native stores take a human-readable label (shown in e.g. Seahorse); the mock
    /// store refuses modifiers.
    labelled: bool,
}

impl fmt::Debug for KeychainKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeychainKeyStore")
            .field("store", &self.store.vendor())
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl KeychainKeyStore {
    /// The platform's native keychain: Secret Service on Linux, the login keychain on
    /// macOS, the Credential Manager on Windows.
    pub fn native(namespace: KeyNamespace) -> Result<Self, VaultError> {
        let store = native_store().map_err(classify)?;
        Ok(Self {
            store,
            namespace,
            labelled: true,
        })
    }

    /// Any keyring-core store (tests use `keyring_core::mock::Store`).
    #[must_use]
    pub fn with_store(store: Arc<CredentialStore>, namespace: KeyNamespace) -> Self {
        Self {
            store,
            namespace,
            labelled: false,
        }
    }

    #[must_use]
    pub fn namespace(&self) -> &KeyNamespace {
        &self.namespace
    }

    fn entry(&self) -> Result<Entry, VaultError> {
        let user = self.namespace.user();
        if self.labelled {
            let label = format!("Kaito vault key ({})", self.namespace.profile);
            let modifiers = HashMap::from([("label", label.as_str())]);
            self.store
                .build(self.namespace.service(), &user, Some(&modifiers))
                .map_err(classify)
        } else {
            self.store
                .build(self.namespace.service(), &user, None)
                .map_err(classify)
        }
    }
}

impl KeyStore for KeychainKeyStore {
    fn load(&self) -> Result<Option<VaultKey>, VaultError> {
        match self.entry()?.get_password() {
            Ok(text) => {
                let text = Zeroizing::new(text);
                VaultKey::from_text(&text)
                    .map(Some)
                    .ok_or(VaultError::VaultKeyMismatch)
            }
            Err(KeyringError::NoEntry) => Ok(None),
            Err(KeyringError::BadEncoding(bytes)) => {
                drop(Zeroizing::new(bytes));
                Err(VaultError::VaultKeyMismatch)
            }
            Err(error) => Err(classify(error)),
        }
    }

    fn store(&self, key: &VaultKey) -> Result<(), VaultError> {
        self.entry()?.set_password(&key.to_text()).map_err(classify)
    }

    fn delete(&self) -> Result<(), VaultError> {
        match self.entry()?.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(error) => Err(classify(error)),
        }
    }
}

/// A text secret of a profile kept beside its vault key (the team sign-in), in the
/// same channel and profile namespace. Blocking, like [`KeyStore`].
pub trait SecretSlot: Send + Sync + fmt::Debug {
    /// The stored text, `None` when there is no entry.
    fn load(&self) -> Result<Option<Zeroizing<String>>, VaultError>;
    /// Creates or replaces the entry.
    fn store(&self, text: &str) -> Result<(), VaultError>;
    /// Removes the entry; removing a missing entry is not an error.
    fn delete(&self) -> Result<(), VaultError>;
}

/// A [`SecretSlot`] in a keyring-core credential store.
pub struct KeychainSecret {
    store: Arc<CredentialStore>,
    service: &'static str,
    user: String,
    label: Option<String>,
}

impl fmt::Debug for KeychainSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeychainSecret")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl KeychainKeyStore {
    /// The slot `name` (say "team") of this key store's profile.
    #[must_use]
    pub fn secret(&self, name: &str) -> KeychainSecret {
        KeychainSecret {
            store: self.store.clone(),
            service: self.namespace.service(),
            user: format!("{name}:{}", self.namespace.profile),
            label: self
                .labelled
                .then(|| format!("Kaito {name} sign-in ({})", self.namespace.profile)),
        }
    }
}

impl KeychainSecret {
    fn entry(&self) -> Result<Entry, VaultError> {
        match &self.label {
            Some(label) => {
                let modifiers = HashMap::from([("label", label.as_str())]);
                self.store.build(self.service, &self.user, Some(&modifiers))
            }
            None => self.store.build(self.service, &self.user, None),
        }
        .map_err(classify)
    }
}

impl SecretSlot for KeychainSecret {
    fn load(&self) -> Result<Option<Zeroizing<String>>, VaultError> {
        match self.entry()?.get_password() {
            Ok(text) => Ok(Some(Zeroizing::new(text))),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(KeyringError::BadEncoding(bytes)) => {
                drop(Zeroizing::new(bytes));
                Err(VaultError::Keychain {
                    detail: "the team sign-in entry is not text".to_owned(),
                })
            }
            Err(error) => Err(classify(error)),
        }
    }

    fn store(&self, text: &str) -> Result<(), VaultError> {
        self.entry()?.set_password(text).map_err(classify)
    }

    fn delete(&self) -> Result<(), VaultError> {
        match self.entry()?.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(error) => Err(classify(error)),
        }
    }
}

#[cfg(target_os = "linux")]
fn native_store() -> Result<Arc<CredentialStore>, KeyringError> {
    Ok(dbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn native_store() -> Result<Arc<CredentialStore>, KeyringError> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(target_os = "windows")]
fn native_store() -> Result<Arc<CredentialStore>, KeyringError> {
    Ok(windows_native_keyring_store::Store::new()?)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn native_store() -> Result<Arc<CredentialStore>, KeyringError> {
    Err(KeyringError::NotSupportedByStore(
        "no native keychain on this platform".to_owned(),
    ))
}

/// Maps keyring errors to what the UI can explain. The backends report most
/// conditions as platform errors, so the message text is the only signal for
/// "no provider" versus "locked" versus "denied".
#[allow(
    clippy::needless_pass_by_value,
    reason = "used as a `map_err` callback"
)]
fn classify(error: KeyringError) -> VaultError {
    let detail = error.to_string();
    let lower = detail.to_ascii_lowercase();
    match error {
        KeyringError::NoStorageAccess(_) => {
            if lower.contains("prompt")
                || lower.contains("denied")
                || lower.contains("not authorized")
            {
                VaultError::KeychainAccessDenied { detail }
            } else {
                VaultError::KeychainLocked { detail }
            }
        }
        KeyringError::NoDefaultStore | KeyringError::NotSupportedByStore(_) => {
            VaultError::KeychainUnavailable { detail }
        }
        _ if lower.contains("no dbus session")
            || lower.contains("secret service provider")
            || lower.contains("serviceunknown")
            || lower.contains("failed to connect")
            || lower.contains("not provided by any .service files") =>
        {
            VaultError::KeychainUnavailable { detail }
        }
        _ if lower.contains("locked") => VaultError::KeychainLocked { detail },
        _ if lower.contains("denied")
            || lower.contains("not authorized")
            || lower.contains("accessdenied") =>
        {
            VaultError::KeychainAccessDenied { detail }
        }
        _ => VaultError::Keychain { detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mock_store() -> Arc<CredentialStore> {
        keyring_core::mock::Store::new().unwrap()
    }

    fn inject(store: &KeychainKeyStore, error: KeyringError) {
        let entry = store.entry().unwrap();
        let cred: &keyring_core::mock::Cred = entry.as_any().downcast_ref().unwrap();
        cred.set_error(error);
    }

    #[test]
    fn secret_slots_sit_beside_the_key_and_apart_per_profile() {
        let store = mock_store();
        let first = KeychainKeyStore::with_store(
            store.clone(),
            KeyNamespace::new(Channel::Development, "a"),
        );
        let second =
            KeychainKeyStore::with_store(store, KeyNamespace::new(Channel::Development, "b"));
        let (team_a, team_b) = (first.secret("team"), second.secret("team"));
        assert_eq!(team_a.load().unwrap(), None);
        team_a.store("refresh-1").unwrap();
        team_a.store("refresh-2").unwrap();
        assert_eq!(
            team_a.load().unwrap().as_deref().map(String::as_str),
            Some("refresh-2")
        );
        assert_eq!(team_b.load().unwrap(), None);
        // The vault key's own entry is untouched.
        assert!(first.load().unwrap().is_none());
        team_a.delete().unwrap();
        team_a.delete().unwrap();
        assert_eq!(team_a.load().unwrap(), None);
    }

    #[test]
    fn namespaces_separate_channels_and_profiles() {
        let release = KeyNamespace::new(Channel::Release, "default");
        let dev = KeyNamespace::new(Channel::Development, "default");
        assert_ne!(release.service(), dev.service());
        assert_eq!(release.service(), "dev.kaito.authenticator");
        assert_eq!(dev.service(), "dev.kaito.authenticator.dev");
        assert_eq!(
            KeyNamespace::current("x").channel,
            Channel::Development,
            "tests build in debug"
        );

        let store = mock_store();
        let a = KeychainKeyStore::with_store(
            store.clone(),
            KeyNamespace::new(Channel::Development, "a"),
        );
        let b = KeychainKeyStore::with_store(store, KeyNamespace::new(Channel::Development, "b"));
        a.store(&VaultKey::generate().unwrap()).unwrap();
        assert!(
            b.load().unwrap().is_none(),
            "profile b must not see profile a's key"
        );
    }

    #[test]
    fn round_trips_and_deletes() {
        let keys = KeychainKeyStore::with_store(mock_store(), KeyNamespace::current("p"));
        assert!(keys.load().unwrap().is_none());
        let key = VaultKey::generate().unwrap();
        keys.store(&key).unwrap();
        assert_eq!(keys.load().unwrap().unwrap().expose(), key.expose());
        keys.delete().unwrap();
        assert!(keys.load().unwrap().is_none());
        keys.delete().unwrap();
    }

    #[test]
    fn foreign_value_is_a_mismatch_not_a_key() {
        let keys = KeychainKeyStore::with_store(mock_store(), KeyNamespace::current("p"));
        keys.entry().unwrap().set_password("hunter2").unwrap();
        assert!(matches!(keys.load(), Err(VaultError::VaultKeyMismatch)));
    }

    #[test]
    fn keychain_failures_become_specific_errors() {
        let keys = KeychainKeyStore::with_store(mock_store(), KeyNamespace::current("p"));
        let platform =
            |message: &str| -> keyring_core::error::PlatformError { message.to_owned().into() };

        inject(
            &keys,
            KeyringError::NoStorageAccess(platform("Secret Service: object locked")),
        );
        assert!(matches!(
            keys.load(),
            Err(VaultError::KeychainLocked { .. })
        ));

        inject(
            &keys,
            KeyringError::NoStorageAccess(platform("Secret Service: unlock prompt was dismissed")),
        );
        assert!(matches!(
            keys.load(),
            Err(VaultError::KeychainAccessDenied { .. })
        ));

        inject(
            &keys,
            KeyringError::PlatformFailure(platform(
                "No DBus session or Secret Service provider found",
            )),
        );
        assert!(matches!(
            keys.store(&VaultKey::generate().unwrap()),
            Err(VaultError::KeychainUnavailable { .. })
        ));

        inject(
            &keys,
            KeyringError::PlatformFailure(platform("something odd")),
        );
        let error = keys.load().unwrap_err();
        assert_eq!(error.code(), "vault.keychain_failed");
    }

    #[test]
    fn debug_hides_the_key() {
        let key = VaultKey::generate().unwrap();
        assert_eq!(format!("{key:?}"), "VaultKey(<redacted>)");
        let text = key.to_text();
        assert!(
            !format!(
                "{:?}",
                KeychainKeyStore::with_store(mock_store(), KeyNamespace::current("p"))
            )
            .contains(&text[KEY_TEXT_PREFIX.len()..])
        );
    }
}
