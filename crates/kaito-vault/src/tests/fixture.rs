//! The shared fixture: a temp dir, keyring-core's mock store behind the real
//! `KeychainKeyStore`, and a clock the test moves by hand.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kaito_core::{Algorithm, OtpKind, Secret, Token};
use keyring_core::CredentialStore;

use crate::*;

#[derive(Debug)]
pub(super) struct ManualClock {
    wall: Mutex<SystemTime>,
    base: Instant,
    offset: Mutex<Duration>,
}

impl ManualClock {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            wall: Mutex::new(UNIX_EPOCH + Duration::from_secs(1_750_000_000)),
            base: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        })
    }

    pub(super) fn advance(&self, by: Duration) {
        *self.wall.lock().unwrap() += by;
        *self.offset.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.wall.lock().unwrap()
    }

    fn instant(&self) -> Instant {
        self.base + *self.offset.lock().unwrap()
    }
}

pub(super) const FAST_KDF: PassphraseParams = PassphraseParams {
    memory_kib: 256,
    passes: 1,
    lanes: 1,
};

pub(super) struct Fixture {
    pub(super) dir: tempfile::TempDir,
    pub(super) store: Arc<CredentialStore>,
    pub(super) clock: Arc<ManualClock>,
}

impl Fixture {
    pub(super) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            store: keyring_core::mock::Store::new().unwrap(),
            clock: ManualClock::new(),
        }
    }

    pub(super) fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("vault.db")
    }

    pub(super) fn keys(&self) -> Arc<KeychainKeyStore> {
        Arc::new(KeychainKeyStore::with_store(
            self.store.clone(),
            KeyNamespace::current("unit"),
        ))
    }

    pub(super) fn options(&self) -> VaultOptions {
        VaultOptions {
            clock: self.clock.clone(),
            passphrase_params: FAST_KDF,
            auto_lock: None,
        }
    }

    pub(super) async fn open(&self) -> Result<Vault, VaultError> {
        Vault::open_with(self.path(), self.keys(), self.options()).await
    }
}

pub(super) fn totp(issuer: &str, account: &str, base32: &str) -> Token {
    Token::new(
        issuer,
        account,
        OtpKind::Totp { period: 30 },
        Algorithm::Sha1,
        6,
        Secret::from_base32(base32).unwrap(),
    )
    .unwrap()
}

pub(super) const SEED_A: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
pub(super) const SEED_B: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
pub(super) const SEED_C: &str = "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK";
