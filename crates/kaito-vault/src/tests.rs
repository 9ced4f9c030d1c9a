//! Unit tests: real `SQLite` files in temp dirs, keyring-core's mock credential store
//! behind the real `KeychainKeyStore`. The real keychain is exercised by the
//! integration tests in `tests/`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kaito_core::backup::KdfParams;
use kaito_core::{Algorithm, OtpKind, Secret, Token};
use keyring_core::CredentialStore;
use sqlx::Connection;

use crate::*;

#[derive(Debug)]
struct ManualClock {
    wall: Mutex<SystemTime>,
    base: Instant,
    offset: Mutex<Duration>,
}

impl ManualClock {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            wall: Mutex::new(UNIX_EPOCH + Duration::from_secs(1_750_000_000)),
            base: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        })
    }

    fn advance(&self, by: Duration) {
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

const FAST_KDF: PassphraseParams = PassphraseParams {
    memory_kib: 256,
    passes: 1,
    lanes: 1,
};

struct Fixture {
    dir: tempfile::TempDir,
    store: Arc<CredentialStore>,
    clock: Arc<ManualClock>,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            store: keyring_core::mock::Store::new().unwrap(),
            clock: ManualClock::new(),
        }
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("vault.db")
    }

    fn keys(&self) -> Arc<KeychainKeyStore> {
        Arc::new(KeychainKeyStore::with_store(
            self.store.clone(),
            KeyNamespace::current("unit"),
        ))
    }

    fn options(&self) -> VaultOptions {
        VaultOptions {
            clock: self.clock.clone(),
            passphrase_params: FAST_KDF,
            auto_lock: None,
        }
    }

    async fn open(&self) -> Result<Vault, VaultError> {
        Vault::open_with(self.path(), self.keys(), self.options()).await
    }
}

fn totp(issuer: &str, account: &str, base32: &str) -> Token {
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

const SEED_A: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const SEED_B: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const SEED_C: &str = "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK";

#[tokio::test]
async fn first_open_creates_key_and_reopen_uses_it() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let added = vault
        .add(&totp("GitHub", "alice", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    vault.close().await;
    assert!(
        fx.keys().load().unwrap().is_some(),
        "key stored in the keychain"
    );

    let vault = fx.open().await.unwrap();
    assert_eq!(
        vault.secret(added.id).await.unwrap(),
        Secret::from_base32(SEED_A).unwrap()
    );
}

#[tokio::test]
async fn missing_key_for_existing_vault_is_an_error_not_a_new_vault() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    vault
        .add(&totp("GitHub", "alice", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    vault.close().await;

    fx.keys().delete().unwrap();
    let error = fx.open().await.unwrap_err();
    assert!(matches!(error, VaultError::VaultKeyMissing), "{error:?}");
    assert_eq!(error.code(), "vault.key_missing");
    assert!(
        fx.keys().load().unwrap().is_none(),
        "no replacement key was created"
    );

    fx.keys().store(&VaultKey::generate().unwrap()).unwrap();
    assert!(matches!(fx.open().await, Err(VaultError::VaultKeyMismatch)));
}

#[tokio::test]
async fn keychain_failure_on_first_run_leaves_no_database() {
    let fx = Fixture::new();
    let keys = fx.keys();
    let entry = fx
        .store
        .build(keys.namespace().service(), &keys.namespace().user(), None)
        .unwrap();
    let cred: &keyring_core::mock::Cred = entry.as_any().downcast_ref().unwrap();
    cred.set_error(keyring_core::Error::NoStorageAccess(
        "Secret Service: object locked".to_owned().into(),
    ));
    let error = fx.open().await.unwrap_err();
    assert!(
        matches!(error, VaultError::KeychainLocked { .. }),
        "{error:?}"
    );
    assert!(!fx.path().exists(), "no empty vault file was created");
    // The error was one-shot: the next attempt succeeds.
    fx.open().await.unwrap();
}

#[tokio::test]
async fn add_list_search_and_duplicates() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let github = vault
        .add(
            &totp("GitHub", "alice@example.com", SEED_A).with_group(Some("Work".into())),
            TokenExtras::default(),
        )
        .await
        .unwrap();
    let gitlab = vault
        .add(
            &totp("GitLab", "bob", SEED_B),
            TokenExtras {
                favorite: true,
                service_domain: Some("gitlab.com".into()),
                icon: None,
            },
        )
        .await
        .unwrap();
    let steam = Token::new(
        "Steam",
        "Ölaf",
        OtpKind::Steam { period: 30 },
        Algorithm::Sha1,
        5,
        Secret::from_base32(SEED_C).unwrap(),
    )
    .unwrap();
    let steam = vault.add(&steam, TokenExtras::default()).await.unwrap();

    let ids: Vec<_> = vault.list().await.unwrap().iter().map(|t| t.id).collect();
    assert_eq!(
        ids,
        vec![gitlab.id, github.id, steam.id],
        "favourites first, then insertion order"
    );

    // Same issuer/account/secret, different case and spacing: duplicate.
    let error = vault
        .add(
            &totp(" github ", "ALICE@example.com", SEED_A),
            TokenExtras::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, VaultError::Duplicate { existing } if existing == github.id),
        "{error:?}"
    );
    // Same secret, another account: not a duplicate.
    vault
        .add(
            &totp("GitHub", "alice-work", SEED_A),
            TokenExtras::default(),
        )
        .await
        .unwrap();

    let hits: Vec<_> = vault
        .search("GIT")
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(hits.len(), 3);
    assert_eq!(
        vault.search("work").await.unwrap().len(),
        2,
        "group and account both match"
    );
    assert_eq!(
        vault.search("ölaf").await.unwrap()[0].id,
        steam.id,
        "unicode case folding"
    );
    assert_eq!(vault.search("gitlab.com").await.unwrap()[0].id, gitlab.id);
    assert!(vault.search("nothing").await.unwrap().is_empty());
}

#[tokio::test]
async fn edit_metadata_and_replace_seed() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let a = vault
        .add(&totp("GitHub", "alice", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    let b = vault
        .add(&totp("GitHub", "bob", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    fx.clock.advance(Duration::from_secs(5));

    let edited = vault
        .edit(
            a.id,
            TokenEdit {
                issuer: Some("GitHub Enterprise".into()),
                group: Some(Some("Work".into())),
                favorite: Some(true),
                digits: Some(8),
                ..TokenEdit::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(edited.issuer, "GitHub Enterprise");
    assert_eq!(edited.group.as_deref(), Some("Work"));
    assert!(edited.favorite);
    assert_eq!(edited.digits, 8);
    assert!(edited.updated_at > edited.created_at);

    let invalid = vault
        .edit(
            a.id,
            TokenEdit {
                digits: Some(9),
                ..TokenEdit::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(invalid, VaultError::InvalidToken(_)),
        "{invalid:?}"
    );
    assert_eq!(
        vault.get(a.id).await.unwrap().digits,
        8,
        "failed edit changed nothing"
    );

    // Renaming b into a duplicate of a (same secret) is refused.
    let dup = vault
        .edit(
            b.id,
            TokenEdit {
                issuer: Some("github enterprise".into()),
                account: Some("Alice".into()),
                ..TokenEdit::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(dup, VaultError::Duplicate { existing } if existing == a.id));

    vault
        .replace_secret(a.id, &Secret::from_base32(SEED_B).unwrap())
        .await
        .unwrap();
    assert_eq!(
        vault.secret(a.id).await.unwrap(),
        Secret::from_base32(SEED_B).unwrap()
    );
    assert_eq!(
        vault.secret(b.id).await.unwrap(),
        Secret::from_base32(SEED_A).unwrap()
    );
}

#[tokio::test]
async fn soft_delete_undo_and_purge() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let a = vault
        .add(&totp("A", "a", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    let b = vault
        .add(&totp("B", "b", SEED_B), TokenExtras::default())
        .await
        .unwrap();

    let undo = vault.delete(a.id).await.unwrap();
    assert_eq!(vault.list().await.unwrap().len(), 1);
    assert!(matches!(
        vault.secret(a.id).await,
        Err(VaultError::NotFound { .. })
    ));
    assert!(matches!(
        vault.delete(a.id).await,
        Err(VaultError::NotFound { .. })
    ));
    // The trash view lists it with the same handle.
    assert_eq!(vault.list_deleted().await.unwrap()[0].1, undo);

    let restored = vault.undo_delete(undo).await.unwrap();
    assert_eq!(
        restored.sort_order, a.sort_order,
        "restored to its old place"
    );
    assert_eq!(
        vault
            .list()
            .await
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect::<Vec<_>>(),
        vec![a.id, b.id]
    );
    assert!(matches!(
        vault.undo_delete(undo).await,
        Err(VaultError::UndoExpired { .. })
    ));

    let undo_b = vault.delete(b.id).await.unwrap();
    fx.clock.advance(Duration::from_secs(60));
    assert_eq!(
        vault
            .purge_deleted(fx.clock.now() - Duration::from_secs(120))
            .await
            .unwrap(),
        0,
        "too recent"
    );
    assert_eq!(
        vault
            .purge_deleted(fx.clock.now() - Duration::from_secs(30))
            .await
            .unwrap(),
        1
    );
    assert!(matches!(
        vault.undo_delete(undo_b).await,
        Err(VaultError::UndoExpired { .. })
    ));
    assert_eq!(vault.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn groups_rename_and_delete_through_foreign_keys() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let a = vault
        .add(
            &totp("A", "a", SEED_A).with_group(Some("Work".into())),
            TokenExtras::default(),
        )
        .await
        .unwrap();
    let b = vault
        .add(
            &totp("B", "b", SEED_B).with_group(Some("Home".into())),
            TokenExtras::default(),
        )
        .await
        .unwrap();
    vault.create_group("  Empty ").await.unwrap();
    assert_eq!(vault.groups().await.unwrap(), vec!["Empty", "Home", "Work"]);

    vault.rename_group("Work", "Job").await.unwrap();
    assert_eq!(
        vault.get(a.id).await.unwrap().group.as_deref(),
        Some("Job"),
        "token followed the rename"
    );
    vault.rename_group("Job", "Home").await.unwrap();
    assert_eq!(
        vault.get(a.id).await.unwrap().group.as_deref(),
        Some("Home"),
        "merged"
    );
    assert_eq!(vault.groups().await.unwrap(), vec!["Empty", "Home"]);

    vault.delete_group("Home").await.unwrap();
    assert_eq!(
        vault.get(a.id).await.unwrap().group,
        None,
        "ungrouped, not deleted"
    );
    assert_eq!(vault.get(b.id).await.unwrap().group, None);
    assert_eq!(vault.list().await.unwrap().len(), 2);
}

#[tokio::test]
async fn reorder_is_stable() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let mut ids = Vec::new();
    for (index, seed) in [SEED_A, SEED_B, SEED_C].into_iter().enumerate() {
        ids.push(
            vault
                .add(
                    &totp(&format!("T{index}"), "x", seed),
                    TokenExtras::default(),
                )
                .await
                .unwrap()
                .id,
        );
    }
    let order = |list: Vec<StoredToken>| list.into_iter().map(|t| t.id).collect::<Vec<_>>();

    vault.move_to(ids[2], 0).await.unwrap();
    assert_eq!(
        order(vault.list().await.unwrap()),
        vec![ids[2], ids[0], ids[1]]
    );
    vault.move_to(ids[2], 99).await.unwrap();
    assert_eq!(
        order(vault.list().await.unwrap()),
        vec![ids[0], ids[1], ids[2]]
    );
    vault.move_to(ids[0], 1).await.unwrap();
    assert_eq!(
        order(vault.list().await.unwrap()),
        vec![ids[1], ids[0], ids[2]]
    );
    let orders: Vec<i64> = vault
        .list()
        .await
        .unwrap()
        .iter()
        .map(|t| t.sort_order)
        .collect();
    assert_eq!(orders, vec![0, 1, 2], "dense order");
    // A new token goes last.
    let d = vault
        .add(&totp("D", "x", "ONSWG4TFOQ======"), TokenExtras::default())
        .await
        .unwrap();
    assert_eq!(order(vault.list().await.unwrap()).last(), Some(&d.id));
}

#[tokio::test]
async fn hotp_counter_advances_atomically_and_persists() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let hotp = Token::new(
        "Bank",
        "me",
        OtpKind::Hotp { counter: 5 },
        Algorithm::Sha1,
        6,
        Secret::from_base32(SEED_A).unwrap(),
    )
    .unwrap();
    let hotp = vault.add(&hotp, TokenExtras::default()).await.unwrap();
    let totp_token = vault
        .add(&totp("T", "t", SEED_B), TokenExtras::default())
        .await
        .unwrap();

    assert_eq!(vault.next_hotp_counter(hotp.id).await.unwrap(), 5);
    assert_eq!(vault.next_hotp_counter(hotp.id).await.unwrap(), 6);
    assert!(matches!(
        vault.next_hotp_counter(totp_token.id).await,
        Err(VaultError::NotHotp { .. })
    ));
    vault.close().await;

    let vault = Arc::new(fx.open().await.unwrap());
    assert_eq!(
        vault.get(hotp.id).await.unwrap().kind,
        OtpKind::Hotp { counter: 7 }
    );
    // Concurrent callers never get the same counter.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let vault = vault.clone();
        tasks.push(tokio::spawn(async move {
            vault.next_hotp_counter(hotp.id).await.unwrap()
        }));
    }
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (7..27).collect::<Vec<_>>());
    let advances = vault
        .pending(1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == AuditAction::HotpAdvance)
        .count();
    assert_eq!(advances, 22, "one event per counter handed out");
}

#[tokio::test]
async fn passphrase_lock_unlock_change_remove() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let a = vault
        .add(&totp("A", "a", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    assert!(matches!(
        vault.unlock("x").await,
        Err(VaultError::NoPassphrase)
    ));
    assert!(matches!(
        vault.set_passphrase("").await,
        Err(VaultError::EmptyPassphrase)
    ));

    vault.set_passphrase("open sesame").await.unwrap();
    assert!(
        fx.keys().load().unwrap().is_none(),
        "keychain copy removed while a passphrase is set"
    );
    assert!(matches!(
        vault.set_passphrase("again").await,
        Err(VaultError::PassphraseAlreadySet)
    ));
    vault.close().await;

    // Reopening: locked until the passphrase is given.
    let vault = fx.open().await.unwrap();
    assert!(vault.is_locked());
    assert!(matches!(vault.list().await, Err(VaultError::Locked)));
    assert!(matches!(
        vault.unlock_with_keychain().await,
        Err(VaultError::PassphraseRequired)
    ));
    assert!(matches!(
        vault.unlock("open sesamE").await,
        Err(VaultError::WrongPassphrase)
    ));
    assert!(vault.is_locked());
    vault.unlock("open sesame").await.unwrap();
    assert_eq!(
        vault.secret(a.id).await.unwrap(),
        Secret::from_base32(SEED_A).unwrap()
    );

    // Wrong current passphrase: nothing changes.
    assert!(matches!(
        vault.change_passphrase("nope", "new").await,
        Err(VaultError::WrongPassphrase)
    ));
    vault.lock();
    vault.unlock("open sesame").await.unwrap();

    vault
        .change_passphrase("open sesame", "new words")
        .await
        .unwrap();
    vault.lock();
    assert!(matches!(
        vault.unlock("open sesame").await,
        Err(VaultError::WrongPassphrase)
    ));
    vault.unlock("new words").await.unwrap();

    assert!(matches!(
        vault.remove_passphrase("wrong").await,
        Err(VaultError::WrongPassphrase)
    ));
    assert!(vault.has_passphrase().await.unwrap());
    vault.remove_passphrase("new words").await.unwrap();
    assert!(!vault.has_passphrase().await.unwrap());
    assert!(
        fx.keys().load().unwrap().is_some(),
        "key back in the keychain"
    );
    vault.close().await;

    let vault = fx.open().await.unwrap();
    assert!(
        !vault.is_locked(),
        "no passphrase: opens unlocked from the keychain"
    );
    assert_eq!(
        vault.secret(a.id).await.unwrap(),
        Secret::from_base32(SEED_A).unwrap()
    );
}

#[tokio::test]
async fn auto_lock_after_idle_and_unlock_from_keychain() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    vault
        .add(&totp("A", "a", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    assert!(
        !vault.lock_if_idle(fx.clock.instant() + Duration::from_secs(3600)),
        "auto-lock off"
    );

    vault.set_auto_lock(Some(Duration::from_secs(300)));
    fx.clock.advance(Duration::from_secs(200));
    vault.touch();
    fx.clock.advance(Duration::from_secs(200));
    assert!(!vault.lock_if_idle(fx.clock.instant()), "touched 200 s ago");
    fx.clock.advance(Duration::from_secs(100));
    assert!(vault.lock_if_idle(fx.clock.instant()));
    assert!(vault.is_locked());
    assert!(matches!(vault.list().await, Err(VaultError::Locked)));
    assert!(!vault.lock_if_idle(fx.clock.instant()), "already locked");

    vault.unlock_with_keychain().await.unwrap();
    assert_eq!(vault.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn tampered_seed_is_reported_for_that_token_only() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let a = vault
        .add(&totp("A", "a", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    let b = vault
        .add(&totp("B", "b", SEED_B), TokenExtras::default())
        .await
        .unwrap();
    vault.close().await;

    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", fx.path().display()))
        .await
        .unwrap();
    let mut sealed: Vec<u8> = sqlx::query_scalar("SELECT seed_sealed FROM tokens WHERE id = ?")
        .bind(a.id.to_string())
        .fetch_one(&mut conn)
        .await
        .unwrap();
    sealed[3] ^= 0x40;
    sqlx::query("UPDATE tokens SET seed_sealed = ? WHERE id = ?")
        .bind(sealed)
        .bind(a.id.to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let vault = fx.open().await.unwrap();
    let error = vault.secret(a.id).await.unwrap_err();
    assert!(
        matches!(error, VaultError::Corrupt { id } if id == a.id),
        "{error:?}"
    );
    assert_eq!(
        vault.secret(b.id).await.unwrap(),
        Secret::from_base32(SEED_B).unwrap()
    );
    assert_eq!(vault.list().await.unwrap().len(), 2, "listing still works");
    let all = vault.secrets().await.unwrap();
    assert!(
        matches!(&all[0], (id, Err(VaultError::Corrupt { id: bad })) if *id == a.id && *bad == a.id)
    );
    assert!(
        matches!(&all[1], (id, Ok(secret)) if *id == b.id && *secret == Secret::from_base32(SEED_B).unwrap())
    );
    // A failed reveal writes no audit event.
    let before = vault.pending(1000).await.unwrap().len();
    assert!(vault.reveal_secret(a.id).await.is_err());
    assert_eq!(vault.pending(1000).await.unwrap().len(), before);
}

#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one story: write, batch, acknowledge, reopen"
)]
async fn audit_events_chain_pending_and_acknowledge() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let a = vault
        .add(&totp("A", "a", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    vault.secret_for_code(a.id, CodeUse::View).await.unwrap();
    vault.secret_for_code(a.id, CodeUse::Copy).await.unwrap();
    vault.reveal_secret(a.id).await.unwrap();
    vault.record_code_use(a.id, CodeUse::Copy).await.unwrap();
    vault
        .edit(
            a.id,
            TokenEdit {
                favorite: Some(true),
                ..TokenEdit::default()
            },
        )
        .await
        .unwrap();
    vault.delete(a.id).await.unwrap();
    vault
        .export_backup(
            "pw",
            KdfParams {
                memory_kib: 64,
                passes: 1,
                lanes: 1,
            },
        )
        .await
        .unwrap();

    let events = vault.pending(100).await.unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        vec![
            AuditAction::Add,
            AuditAction::CodeView,
            AuditAction::CodeCopy,
            AuditAction::SeedReveal,
            AuditAction::CodeCopy,
            AuditAction::Edit,
            AuditAction::Delete,
            AuditAction::Export
        ]
    );
    assert_eq!(
        events.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    assert!(
        events
            .windows(2)
            .all(|w| w[1].prev_hash == w[0].hash && w[0].id != w[1].id)
    );
    assert!(events.iter().all(|e| e.id.get_version_num() == 7));
    assert!(
        events[..7]
            .iter()
            .all(|e| e.token_id == Some(a.id) && e.device_id == vault.device_id())
    );
    assert_eq!(
        vault.verify_chain().await.unwrap(),
        ChainReport {
            events_checked: 8,
            last_sequence: 8
        }
    );

    // Batching: limit, then acknowledge by id out of order.
    let batch = vault.pending(3).await.unwrap();
    assert_eq!(batch.len(), 3);
    assert_eq!(
        vault
            .acknowledge(&Acknowledgement::Ids(vec![batch[1].id]))
            .await
            .unwrap(),
        0,
        "not a prefix yet"
    );
    assert_eq!(
        vault.pending(100).await.unwrap().len(),
        7,
        "acknowledged event no longer pending"
    );
    assert_eq!(
        vault
            .acknowledge(&Acknowledgement::Ids(vec![batch[0].id]))
            .await
            .unwrap(),
        2
    );
    vault.verify_chain().await.unwrap();
    assert_eq!(
        vault.acknowledge(&Acknowledgement::UpTo(5)).await.unwrap(),
        3
    );
    assert_eq!(
        vault
            .pending(100)
            .await
            .unwrap()
            .first()
            .map(|e| e.sequence),
        Some(6)
    );
    assert_eq!(
        vault.verify_chain().await.unwrap(),
        ChainReport {
            events_checked: 3,
            last_sequence: 8
        }
    );

    // New events continue the chain across acknowledgement and reopen.
    vault.close().await;
    let vault = fx.open().await.unwrap();
    let b = vault
        .add(&totp("B", "b", SEED_B), TokenExtras::default())
        .await
        .unwrap();
    let last = vault.pending(100).await.unwrap().pop().unwrap();
    assert_eq!((last.sequence, last.token_id), (9, Some(b.id)));
    vault.acknowledge(&Acknowledgement::UpTo(9)).await.unwrap();
    assert!(vault.pending(100).await.unwrap().is_empty());
    assert_eq!(
        vault.verify_chain().await.unwrap(),
        ChainReport {
            events_checked: 0,
            last_sequence: 9
        }
    );
}

#[tokio::test]
async fn tampering_with_an_event_breaks_the_chain() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    for (issuer, seed) in [("A", SEED_A), ("B", SEED_B), ("C", SEED_C)] {
        vault
            .add(&totp(issuer, "x", seed), TokenExtras::default())
            .await
            .unwrap();
    }
    vault.close().await;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", fx.path().display()))
        .await
        .unwrap();
    sqlx::query("UPDATE audit_outbox SET action = 'token.delete' WHERE sequence = 2")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let vault = fx.open().await.unwrap();
    assert!(matches!(
        vault.verify_chain().await,
        Err(VaultError::AuditChainBroken { sequence: 2 })
    ));

    // Deleting an event from the middle is caught too.
    vault.close().await;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", fx.path().display()))
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_outbox WHERE sequence = 2")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let vault = fx.open().await.unwrap();
    assert!(matches!(
        vault.verify_chain().await,
        Err(VaultError::AuditChainBroken { sequence: 3 })
    ));
}

#[tokio::test]
async fn backup_round_trip_merges_without_duplicates() {
    let kdf = KdfParams {
        memory_kib: 64,
        passes: 1,
        lanes: 1,
    };
    let source = Fixture::new();
    let vault = source.open().await.unwrap();
    let hotp = Token::new(
        "Bank",
        "me",
        OtpKind::Hotp { counter: 9 },
        Algorithm::Sha256,
        8,
        Secret::from_base32(SEED_C).unwrap(),
    )
    .unwrap()
    .with_group(Some("Money".into()));
    vault
        .add(&totp("GitHub", "alice", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    vault
        .add(
            &totp("GitLab", "bob", SEED_B),
            TokenExtras {
                favorite: true,
                service_domain: Some("gitlab.com".into()),
                icon: None,
            },
        )
        .await
        .unwrap();
    vault.add(&hotp, TokenExtras::default()).await.unwrap();
    let bytes = vault.export_backup("backup pw", kdf).await.unwrap();
    assert!(
        !bytes.windows(4).any(|w| w == b"JBSW"),
        "backup is encrypted"
    );

    let target = Fixture::new();
    let other = target.open().await.unwrap();
    let existing = other
        .add(&totp("github", "ALICE", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    assert!(matches!(
        other.import_backup(&bytes, "wrong").await,
        Err(VaultError::Backup(_))
    ));
    assert_eq!(
        other.list().await.unwrap().len(),
        1,
        "failed import adds nothing"
    );

    let report = other.import_backup(&bytes, "backup pw").await.unwrap();
    assert_eq!(report.added.len(), 2);
    assert_eq!(
        report.duplicates,
        vec![("GitHub (alice)".to_owned(), existing.id)]
    );
    assert!(report.unusable.is_empty());
    let listed = other.list().await.unwrap();
    let gitlab = listed.iter().find(|t| t.issuer == "GitLab").unwrap();
    assert!(
        gitlab.favorite && gitlab.service_domain.as_deref() == Some("gitlab.com"),
        "vault metadata restored"
    );
    let bank = listed.iter().find(|t| t.issuer == "Bank").unwrap();
    assert_eq!(
        (
            bank.kind,
            bank.algorithm,
            bank.digits,
            bank.group.as_deref()
        ),
        (
            OtpKind::Hotp { counter: 9 },
            Algorithm::Sha256,
            8,
            Some("Money")
        )
    );
    assert_eq!(
        other.secret(bank.id).await.unwrap(),
        Secret::from_base32(SEED_C).unwrap()
    );

    // Importing the same file again adds nothing.
    let again = other.import_backup(&bytes, "backup pw").await.unwrap();
    assert!(again.added.is_empty());
    assert_eq!(again.duplicates.len(), 3);
    assert_eq!(other.list().await.unwrap().len(), 3);
    other.verify_chain().await.unwrap();
}

#[tokio::test]
async fn error_codes_are_stable() {
    let id = TokenId(uuid::Uuid::nil());
    assert_eq!(VaultError::Locked.code(), "vault.locked");
    assert_eq!(VaultError::WrongPassphrase.code(), "vault.wrong_passphrase");
    assert_eq!(VaultError::Corrupt { id }.code(), "vault.corrupt_secret");
    assert_eq!(
        VaultError::Duplicate { existing: id }.code(),
        "vault.duplicate"
    );
    assert_eq!(
        VaultError::KeychainUnavailable {
            detail: String::new()
        }
        .code(),
        "vault.keychain_unavailable"
    );
}

const DIRECTORY_V4: &[u8] = include_bytes!("../../kaito-core/tests/fixtures/directory/all-v4.json");

#[tokio::test]
async fn directory_cache_survives_reopen_and_a_broken_download_keeps_it() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    assert!(vault.cached_directory().await.unwrap().is_none());

    let modified = UNIX_EPOCH + Duration::from_secs(1_760_000_000);
    let cached = vault
        .cache_directory(DirectoryDownload {
            body: DIRECTORY_V4,
            source_url: "https://mirror.example/v4/all.json",
            data_date: Some(modified),
            etag: Some("\"v1\""),
        })
        .await
        .unwrap();
    assert_eq!(cached.directory.len(), 7);
    let first_fetch = cached.fetched_at;

    // A truncated download is refused with the parser's reason; the cache is unchanged.
    fx.clock.advance(Duration::from_secs(60));
    let error = vault
        .cache_directory(DirectoryDownload {
            body: &DIRECTORY_V4[..100],
            source_url: "https://mirror.example/v4/all.json",
            data_date: None,
            etag: None,
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), "directory.not_json");

    // Locking does not hide public data; reopening keeps it.
    vault.lock();
    vault.close().await;
    let vault = fx.open().await.unwrap();
    let cached = vault.cached_directory().await.unwrap().unwrap();
    assert_eq!(cached.directory.len(), 7);
    assert_eq!(cached.fetched_at, first_fetch);
    assert_eq!(cached.data_date, Some(modified));
    assert_eq!(cached.etag.as_deref(), Some("\"v1\""));
    assert_eq!(cached.source_url, "https://mirror.example/v4/all.json");
    assert!(cached.directory.match_issuer("GitHub").is_some());

    // "Not modified" restarts the schedule without a new body.
    fx.clock.advance(Duration::from_secs(3600));
    let touched = vault.touch_directory().await.unwrap().unwrap();
    assert_eq!(
        vault.cached_directory().await.unwrap().unwrap().fetched_at,
        touched
    );
}

#[tokio::test]
async fn importing_tokens_skips_duplicates_and_audits_once() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    vault
        .add(&totp("GitHub", "alice", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    let incoming = vec![
        totp("github", "Alice ", SEED_A),
        totp("GitLab", "alice", SEED_B),
        totp("AWS", "root", SEED_C),
    ];
    let marks = vault.existing_duplicates(&incoming).await.unwrap();
    assert_eq!(
        marks.iter().map(Option::is_some).collect::<Vec<_>>(),
        [true, false, false]
    );
    let before = vault.pending(1000).await.unwrap().len();

    let report = vault.import_tokens(&incoming, Vec::new()).await.unwrap();
    assert_eq!(report.added.len(), 2);
    assert_eq!(report.duplicates.len(), 1);
    let issuers: Vec<String> = vault
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.issuer)
        .collect();
    assert_eq!(issuers, ["GitHub", "GitLab", "AWS"]);
    let events = vault.pending(1000).await.unwrap();
    assert_eq!(
        events.len(),
        before + 3,
        "an Add per new token and one Import"
    );
    assert_eq!(events.last().unwrap().action, AuditAction::Import);

    // Importing the same file again adds nothing.
    let again = vault.import_tokens(&incoming, Vec::new()).await.unwrap();
    assert!(again.added.is_empty());
    assert_eq!(again.duplicates.len(), 3);
    assert_eq!(vault.list().await.unwrap().len(), 3);
}

#[tokio::test]
async fn settings_default_persist_validate_and_read_while_locked() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    assert_eq!(vault.settings().await.unwrap(), Settings::default());
    let chosen = Settings {
        auto_lock_minutes: Some(15),
        clipboard_clear_secs: None,
        theme: Theme::Dark,
        minimize_to_tray: false,
        global_shortcut: Some("Super+Shift+O".into()),
    };
    vault.save_settings(&chosen).await.unwrap();

    // Out-of-range values are refused and the stored ones stay.
    let error = vault
        .save_settings(&Settings {
            auto_lock_minutes: Some(0),
            ..chosen.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), "settings.auto_lock");
    let error = vault
        .save_settings(&Settings {
            clipboard_clear_secs: Some(2),
            ..chosen.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), "settings.clipboard_clear");
    let error = vault
        .save_settings(&Settings {
            global_shortcut: Some("K".into()),
            ..chosen.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), "settings.shortcut");

    vault.lock();
    assert_eq!(
        vault.settings().await.unwrap(),
        chosen,
        "readable while locked"
    );
    vault.close().await;
    let vault = fx.open().await.unwrap();
    assert_eq!(vault.settings().await.unwrap(), chosen);
}
