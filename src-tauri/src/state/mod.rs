//! The app's state: the open vault, a cache of keyed code generators, and tokens
//! waiting for their first-code check. Passed to commands through Tauri's state.
//! This module holds the vault's opening, preferences and lock; `tokens` the
//! stored tokens and their codes; `enroll` everything on the way in.

mod enroll;
mod tokens;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kaito_core::qr::{Effort, ScanSession};
use kaito_core::{CodeGenerator, Token};
use kaito_vault::{KeyNamespace, KeychainKeyStore, Settings, TokenId, Vault};

use crate::AppError;
use crate::IpcError;
use crate::directory::DirectoryState;
use crate::views::LockStatus;

pub use kaito_vault::CopiedCode;

pub struct AppState {
    /// The vault, or why it could not be opened (shown by every command, so the UI
    /// can explain a missing keychain instead of showing an empty list).
    vault: Result<Arc<Vault>, IpcError>,
    /// Keyed generators: building one decrypts the seed, so it happens once per
    /// token, not once per refresh.
    generators: Mutex<HashMap<TokenId, CodeGenerator>>,
    pending: Mutex<HashMap<String, Token>>,
    /// Files read and previewed, waiting for "Import".
    imports: Mutex<HashMap<String, enroll::PendingImport>>,
    /// The QR scan in progress: collects the codes of a multi-code export across
    /// images. `None` while a decode runs.
    scan: Mutex<Option<ScanSession>>,
    /// Preferences, cached from the vault (the close handler reads them synchronously).
    settings: std::sync::RwLock<Settings>,
    /// The 2FA directory, to name each token's service.
    directory: Arc<DirectoryState>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("vault_open", &self.vault.is_ok())
            .finish_non_exhaustive()
    }
}

/// Locks, ignoring poisoning: a panic elsewhere must not take the whole app down.
/// The app's shared state holds no invariant a half-finished update could break.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn parse_id(id: &str) -> Result<TokenId, IpcError> {
    id.parse()
        .map_err(|_| AppError::BadTokenId(id.to_owned()).into())
}

impl AppState {
    /// Opens (or creates) the vault in `data_dir` with its key in the OS keychain.
    pub async fn open(data_dir: &Path, directory: Arc<DirectoryState>) -> Self {
        let vault = Self::open_vault(data_dir).await.map(Arc::new);
        if let Err(error) = &vault {
            tracing::error!(code = %error.code, %error, "the vault could not be opened");
        }
        Self {
            vault,
            generators: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            imports: Mutex::new(HashMap::new()),
            scan: Mutex::new(Some(ScanSession::with_effort(Effort::Still))),
            settings: std::sync::RwLock::new(Settings::default()),
            directory,
        }
    }

    /// Loads the stored preferences and applies the auto-lock delay.
    pub async fn load_settings(&self) {
        let Ok(vault) = self.vault() else { return };
        match vault.settings().await {
            Ok(settings) => {
                self.apply(vault, &settings).await;
                *self
                    .settings
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = settings;
            }
            Err(error) => tracing::warn!(%error, "preferences could not be read; using defaults"),
        }
    }

    async fn apply(&self, vault: &Vault, settings: &Settings) {
        // Auto-lock only means something behind a passphrase: without one the key
        // comes straight back from the keychain.
        let protected = vault.has_passphrase().await.unwrap_or(false);
        vault.set_auto_lock(
            settings
                .auto_lock_minutes
                .filter(|_| protected)
                .map(|minutes| Duration::from_secs(u64::from(minutes) * 60)),
        );
    }

    pub fn settings(&self) -> Settings {
        self.settings
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub async fn save_settings(&self, settings: Settings) -> Result<Settings, IpcError> {
        let vault = self.vault()?;
        vault.save_settings(&settings).await?;
        self.apply(vault, &settings).await;
        *self
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner) = settings.clone();
        Ok(settings)
    }

    /// When copied codes leave the clipboard, if ever.
    pub fn clipboard_clear_after(&self) -> Option<Duration> {
        self.settings()
            .clipboard_clear_secs
            .map(|secs| Duration::from_secs(u64::from(secs)))
    }

    pub async fn lock_status(&self) -> Result<LockStatus, IpcError> {
        let vault = self.vault()?;
        Ok(LockStatus {
            locked: vault.is_locked(),
            has_passphrase: vault.has_passphrase().await?,
        })
    }

    /// Locks now (the vault refuses without a passphrase: anyone could unlock).
    pub async fn lock(&self) -> Result<LockStatus, IpcError> {
        self.vault()?.lock().await?;
        self.forget_secrets();
        self.lock_status().await
    }

    /// Locks if idle for the auto-lock delay; says whether it did.
    pub fn lock_if_idle(&self) -> bool {
        let Ok(vault) = self.vault() else {
            return false;
        };
        let locked = vault.lock_if_idle(std::time::Instant::now());
        if locked {
            self.forget_secrets();
        }
        locked
    }

    /// Drops everything derived from seeds: keyed generators, tokens waiting for their
    /// code check, previewed imports.
    fn forget_secrets(&self) {
        self.reset_scan();
        lock(&self.generators).clear();
        lock(&self.pending).clear();
        lock(&self.imports).clear();
    }

    pub async fn unlock(&self, passphrase: &str) -> Result<LockStatus, IpcError> {
        let vault = self.vault()?;
        vault.unlock(passphrase).await?;
        self.lock_status().await
    }

    pub async fn set_passphrase(&self, passphrase: &str) -> Result<LockStatus, IpcError> {
        let vault = self.vault()?;
        vault.set_passphrase(passphrase).await?;
        self.apply(vault, &self.settings()).await;
        self.lock_status().await
    }

    pub async fn change_passphrase(
        &self,
        current: &str,
        new: &str,
    ) -> Result<LockStatus, IpcError> {
        self.vault()?.change_passphrase(current, new).await?;
        self.lock_status().await
    }

    pub async fn remove_passphrase(&self, current: &str) -> Result<LockStatus, IpcError> {
        let vault = self.vault()?;
        vault.remove_passphrase(current).await?;
        self.apply(vault, &self.settings()).await;
        self.lock_status().await
    }

    /// The user did something: restarts the auto-lock countdown.
    pub fn touch(&self) {
        if let Ok(vault) = self.vault() {
            vault.touch();
        }
    }

    async fn open_vault(data_dir: &Path) -> Result<Vault, IpcError> {
        let store = KeychainKeyStore::native(KeyNamespace::current(keychain_profile(data_dir)))?;
        Ok(Vault::open(data_dir.join("vault.sqlite"), Arc::new(store)).await?)
    }

    pub fn vault(&self) -> Result<&Arc<Vault>, IpcError> {
        self.vault.as_ref().map_err(Clone::clone)
    }
}

/// Keychain profile: "default" for the standard data directory, otherwise one per
/// directory, so a test's or portable install's vault never reuses another's key.
pub fn keychain_profile(data_dir: &Path) -> String {
    if std::env::var_os("KAITO_DATA_DIR").is_none() {
        return "default".to_owned();
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325; // FNV-1a: stable across runs and builds
    for byte in data_dir.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("dir-{hash:016x}")
}
