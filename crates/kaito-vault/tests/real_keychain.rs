//! Integration tests against the REAL OS keychain (gnome-keyring's Secret Service in
//! the private session that `scripts/with-test-session.sh` starts) and real
//! `SQLite` files. Run them as:
//!
//!     scripts/with-test-session.sh cargo test -p kaito-vault
//!
//! Each test uses its own profile in the development channel, so no test can touch
//! a user's real vault key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test loudly"
)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use kaito_core::{Algorithm, OtpKind, Secret, Token};
use kaito_vault::{
    Acknowledgement, CodeUse, KeyNamespace, KeyStore, KeychainKeyStore, TokenEdit, TokenExtras,
    TokenId, Vault, VaultError,
};

const SERVICE: &str = "dev.kaito.authenticator.dev";

fn require_session() {
    assert_eq!(
        std::env::var("KAITO_TEST_SESSION").as_deref(),
        Ok("inner"),
        "these tests use the real keychain: run them through scripts/with-test-session.sh"
    );
}

fn real_keys(profile: &str) -> Arc<KeychainKeyStore> {
    require_session();
    Arc::new(
        KeychainKeyStore::native(KeyNamespace::current(profile))
            .expect("Secret Service in the test session"),
    )
}

fn new_profile() -> String {
    format!("test-{}", uuid::Uuid::new_v4())
}

/// Looks the entry up with libsecret's own CLI: proof that the key really is in
/// the OS keychain, independent of our code. Returns whether it exists (the value
/// is never printed).
fn keychain_has_entry(profile: &str) -> bool {
    let output = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            SERVICE,
            "username",
            &format!("vault-key:{profile}"),
        ])
        .output()
        .expect("secret-tool (libsecret-tools) is installed");
    output.status.success()
        && String::from_utf8_lossy(&output.stdout).starts_with("kaito-vault-key-v1:")
}

fn clear_keychain_entry(profile: &str) {
    let status = Command::new("secret-tool")
        .args([
            "clear",
            "service",
            SERVICE,
            "username",
            &format!("vault-key:{profile}"),
        ])
        .status()
        .expect("secret-tool");
    assert!(status.success());
}

fn token(issuer: &str, account: &str, secret: Secret) -> Token {
    Token::new(
        issuer,
        account,
        OtpKind::Totp { period: 30 },
        Algorithm::Sha1,
        6,
        secret,
    )
    .unwrap()
}

#[tokio::test]
async fn vault_key_is_created_in_the_real_keychain_and_its_loss_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let profile = new_profile();
    assert!(!keychain_has_entry(&profile));

    let vault = Vault::open(&path, real_keys(&profile)).await.unwrap();
    let secret = Secret::from_base32("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").unwrap();
    let added = vault
        .add(
            &token("GitHub", "alice", secret.clone()),
            TokenExtras::default(),
        )
        .await
        .unwrap();
    vault.close().await;
    assert!(
        keychain_has_entry(&profile),
        "vault key stored in gnome-keyring under the dev service"
    );

    // A fresh KeyStore (as after an app restart) finds the same key.
    let vault = Vault::open(&path, real_keys(&profile)).await.unwrap();
    assert_eq!(vault.secret(added.id).await.unwrap(), secret);
    vault.close().await;

    // Another profile is a different entry: it has no key for this vault, and
    // opening does not invent one.
    let other = new_profile();
    assert!(matches!(
        Vault::open(&path, real_keys(&other)).await,
        Err(VaultError::VaultKeyMissing)
    ));
    assert!(!keychain_has_entry(&other));

    // Someone deletes the keychain entry: the vault says so and creates nothing.
    clear_keychain_entry(&profile);
    let error = Vault::open(&path, real_keys(&profile)).await.unwrap_err();
    assert!(matches!(error, VaultError::VaultKeyMissing), "{error:?}");
    assert!(
        !keychain_has_entry(&profile),
        "no replacement key was written"
    );
}

#[tokio::test]
async fn passphrase_moves_the_key_out_of_the_keychain_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let profile = new_profile();
    let options = || kaito_vault::VaultOptions {
        passphrase_params: kaito_vault::PassphraseParams {
            memory_kib: 1024,
            passes: 1,
            lanes: 1,
        },
        ..kaito_vault::VaultOptions::default()
    };

    let vault = Vault::open_with(&path, real_keys(&profile), options())
        .await
        .unwrap();
    let secret = Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
    let id = vault
        .add(&token("Bank", "me", secret.clone()), TokenExtras::default())
        .await
        .unwrap()
        .id;
    vault.set_passphrase("correct horse battery").await.unwrap();
    assert!(
        !keychain_has_entry(&profile),
        "with a passphrase, the keychain holds no copy"
    );
    vault.close().await;

    let vault = Vault::open_with(&path, real_keys(&profile), options())
        .await
        .unwrap();
    assert!(vault.is_locked());
    assert!(matches!(
        vault.unlock("correct horse").await,
        Err(VaultError::WrongPassphrase)
    ));
    assert!(matches!(vault.secret(id).await, Err(VaultError::Locked)));
    vault.unlock("correct horse battery").await.unwrap();
    assert_eq!(vault.secret(id).await.unwrap(), secret);

    vault
        .remove_passphrase("correct horse battery")
        .await
        .unwrap();
    assert!(keychain_has_entry(&profile), "key restored to the keychain");
    vault.close().await;
    let vault = Vault::open_with(&path, real_keys(&profile), options())
        .await
        .unwrap();
    assert!(!vault.is_locked());
    assert_eq!(vault.secret(id).await.unwrap(), secret);
    vault.close().await;
    real_keys(&profile).delete().unwrap();
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn vault_files(path: &Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let file = format!("{}{suffix}", path.display());
            std::fs::read(&file).ok().map(|bytes| (file, bytes))
        })
        .collect()
}

fn assert_no_seed_on_disk(path: &Path, needles: &[Vec<u8>], canary: &[u8]) {
    let files = vault_files(path);
    assert!(files.iter().any(|(name, _)| {
        Path::new(name)
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("db"))
    }));
    // Positive control: plain metadata is found, so the search does see the data.
    assert!(
        files.iter().any(|(_, bytes)| contains(bytes, canary)),
        "canary issuer not found: the check is blind"
    );
    for (name, bytes) in &files {
        for needle in needles {
            assert!(
                !contains(bytes, needle),
                "a seed appears in clear in {name}"
            );
        }
    }
}

#[tokio::test]
async fn seeds_never_appear_in_clear_in_db_wal_or_shm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let profile = new_profile();
    let seed = b"KAITO-SEED-MARKER-1234567890".to_vec();
    let replacement = b"KAITO-SEED-REPLACED-09876543".to_vec();
    let mut needles = Vec::new();
    for raw in [&seed, &replacement] {
        let base32 = data_encoding::BASE32_NOPAD.encode(raw);
        needles.push(raw.clone());
        needles.push(base32.as_bytes().to_vec());
        needles.push(base32.to_lowercase().into_bytes());
        needles.push(data_encoding::BASE64.encode(raw).into_bytes());
        needles.push(data_encoding::HEXLOWER.encode(raw).into_bytes());
    }

    let vault = Vault::open(&path, real_keys(&profile)).await.unwrap();
    let canary = b"CanaryIssuerName";
    let first = vault
        .add(
            &token(
                "CanaryIssuerName",
                "alice",
                Secret::from_bytes(seed.clone()).unwrap(),
            ),
            TokenExtras::default(),
        )
        .await
        .unwrap();
    let second = vault
        .add(
            &Token::new(
                "Other",
                "bob",
                OtpKind::Hotp { counter: 1 },
                Algorithm::Sha256,
                8,
                Secret::from_bytes(seed.clone()).unwrap(),
            )
            .unwrap(),
            TokenExtras::default(),
        )
        .await
        .unwrap();
    vault
        .edit(
            first.id,
            TokenEdit {
                account: Some("alice2".into()),
                ..TokenEdit::default()
            },
        )
        .await
        .unwrap();
    vault
        .secret_for_code(first.id, CodeUse::Copy)
        .await
        .unwrap();
    vault.reveal_secret(first.id).await.unwrap();
    vault.next_hotp_counter(second.id).await.unwrap();
    vault
        .replace_secret(second.id, &Secret::from_bytes(replacement.clone()).unwrap())
        .await
        .unwrap();
    let undo = vault.delete(first.id).await.unwrap();
    vault.undo_delete(undo).await.unwrap();
    for event in vault.pending(100).await.unwrap() {
        let rendered = format!("{event:?}");
        assert!(
            !needles
                .iter()
                .any(|needle| contains(rendered.as_bytes(), needle))
        );
    }

    // While open (pages still in the WAL) and after a clean close.
    assert!(
        std::fs::metadata(format!("{}-wal", path.display()))
            .unwrap()
            .len()
            > 0,
        "WAL in use"
    );
    assert_no_seed_on_disk(&path, &needles, canary);
    vault.close().await;
    assert_no_seed_on_disk(&path, &needles, canary);

    // Debug output of the error and of what the app holds never shows the seed.
    let vault = Vault::open(&path, real_keys(&profile)).await.unwrap();
    let revealed = vault.reveal_secret(first.id).await.unwrap();
    assert_eq!(revealed.expose(), seed.as_slice());
    assert!(
        !needles
            .iter()
            .any(|needle| contains(format!("{revealed:?} {vault:?}").as_bytes(), needle))
    );
    vault.close().await;
    real_keys(&profile).delete().unwrap();
}

// ----- crash safety -----------------------------------------------------------

const CHILD_DB: &str = "KAITO_VAULT_CRASH_CHILD_DB";
const CHILD_PROFILE: &str = "KAITO_VAULT_CRASH_CHILD_PROFILE";
const CHILD_HOTP: &str = "KAITO_VAULT_CRASH_CHILD_HOTP";

/// Entry point of the child process of `committed_work_survives_sigkill` (not a
/// test on its own: without the environment switch it returns at once). It adds
/// tokens, audit events and HOTP counter advances as fast as it can against the
/// real keychain, printing each only after its transaction committed, until the
/// parent kills it.
#[tokio::test]
async fn crash_child() {
    let (Ok(db), Ok(profile), Ok(hotp)) = (
        std::env::var(CHILD_DB),
        std::env::var(CHILD_PROFILE),
        std::env::var(CHILD_HOTP),
    ) else {
        return;
    };
    let hotp: TokenId = hotp.parse().unwrap();
    let vault = Vault::open(&db, real_keys(&profile)).await.unwrap();
    let mut out = std::io::stdout().lock();
    for index in 0..1_000_000u32 {
        let seed = uuid::Uuid::new_v4().as_bytes().to_vec();
        let added = vault
            .add(
                &token(
                    "Crash",
                    &format!("account-{index}"),
                    Secret::from_bytes(seed).unwrap(),
                ),
                TokenExtras::default(),
            )
            .await
            .unwrap();
        writeln!(out, "COMMITTED-TOKEN {}", added.id).unwrap();
        let event = vault
            .record_code_use(added.id, CodeUse::Copy)
            .await
            .unwrap();
        writeln!(out, "COMMITTED-EVENT {} {}", event.id, event.sequence).unwrap();
        let counter = vault.next_hotp_counter(hotp).await.unwrap();
        writeln!(out, "COMMITTED-HOTP {counter}").unwrap();
        out.flush().unwrap();
    }
}

/// What the crash child reported as committed before it was killed.
struct Reported {
    tokens: Vec<TokenId>,
    events: Vec<(uuid::Uuid, i64)>,
    counters: Vec<u64>,
}

/// Runs `crash_child` and SIGKILLs it once it reported 150 committed tokens.
fn run_child_until_killed(path: &Path, profile: &str, hotp: TokenId) -> Reported {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_DB, path)
        .env(CHILD_PROFILE, profile)
        .env(CHILD_HOTP, hotp.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut tokens: Vec<TokenId> = Vec::new();
    let mut events: Vec<(uuid::Uuid, i64)> = Vec::new();
    let mut counters: Vec<u64> = Vec::new();
    let mut record = |line: &str| {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            ["COMMITTED-TOKEN", id] => tokens.push(id.parse().unwrap()),
            ["COMMITTED-EVENT", id, sequence] => {
                events.push((id.parse().unwrap(), sequence.parse().unwrap()));
            }
            ["COMMITTED-HOTP", counter] => counters.push(counter.parse().unwrap()),
            _ => {}
        }
        tokens.len()
    };
    for line in lines.by_ref() {
        if record(&line.unwrap()) >= 150 {
            break;
        }
    }
    // SIGKILL on Unix: no destructors, no WAL checkpoint, mid-transaction.
    child.kill().unwrap();
    for line in lines {
        record(&line.unwrap());
    }
    let status = child.wait().unwrap();
    eprintln!(
        "child reported {} tokens and {} events committed before SIGKILL",
        tokens.len(),
        events.len()
    );
    assert!(!status.success(), "the child was killed, not finished");
    assert!(
        tokens.len() >= 150,
        "child reported {} commits",
        tokens.len()
    );

    Reported {
        tokens,
        events,
        counters,
    }
}

#[tokio::test]
async fn committed_work_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let profile = new_profile();
    // The parent creates the vault (and an HOTP token), so the child only ever
    // opens an existing one.
    let vault = Vault::open(&path, real_keys(&profile)).await.unwrap();
    let hotp = Token::new(
        "Bank",
        "hotp",
        OtpKind::Hotp { counter: 0 },
        Algorithm::Sha1,
        6,
        Secret::from_bytes(vec![1; 20]).unwrap(),
    )
    .unwrap();
    let hotp = vault.add(&hotp, TokenExtras::default()).await.unwrap().id;
    vault.close().await;

    let Reported {
        tokens,
        events,
        counters,
    } = run_child_until_killed(&path, &profile, hotp);

    let vault = Vault::open(&path, real_keys(&profile)).await.unwrap();
    let listed = vault.list().await.unwrap();
    for id in &tokens {
        assert!(
            listed.iter().any(|t| t.id == *id),
            "committed token {id} lost"
        );
        assert_eq!(
            vault.secret(*id).await.unwrap().bits(),
            128,
            "seed of {id} readable"
        );
    }
    // Besides the HOTP token, at most the one in-flight add may have committed
    // without being reported.
    assert!(
        listed.len() <= tokens.len() + 2,
        "{} listed vs {} reported",
        listed.len(),
        tokens.len()
    );
    let pending = vault.pending(100_000).await.unwrap();
    for (id, sequence) in &events {
        assert!(
            pending
                .iter()
                .any(|e| e.id == *id && e.sequence == *sequence),
            "committed event {sequence} lost"
        );
    }
    // No HOTP counter value handed out before the crash is ever handed out again.
    assert_eq!(counters, (0..counters.len() as u64).collect::<Vec<_>>());
    let next_counter = vault.next_hotp_counter(hotp).await.unwrap();
    assert!(
        next_counter >= counters.len() as u64,
        "counter {next_counter} reused after the crash"
    );
    let report = vault.verify_chain().await.unwrap();
    assert!(report.last_sequence >= i64::try_from(events.len()).unwrap());
    // The vault keeps working after the crash: the chain continues.
    let next = vault
        .add(
            &token("After", "crash", Secret::from_bytes(vec![7; 20]).unwrap()),
            TokenExtras::default(),
        )
        .await
        .unwrap();
    vault
        .acknowledge(&Acknowledgement::UpTo(report.last_sequence))
        .await
        .unwrap();
    assert_eq!(vault.pending(10).await.unwrap()[0].token_id, Some(next.id));
    vault.verify_chain().await.unwrap();
    vault.close().await;
    real_keys(&profile).delete().unwrap();
}

// ----- keychain unavailable -----------------------------------------------------

const UNAVAILABLE_CHILD_DB: &str = "KAITO_VAULT_NO_KEYCHAIN_CHILD_DB";

/// Child entry point of `no_secret_service_is_a_typed_error`: opens a vault with
/// the session bus pointing nowhere and prints the error code.
#[tokio::test]
async fn no_keychain_child() {
    let Ok(db) = std::env::var(UNAVAILABLE_CHILD_DB) else {
        return;
    };
    let result = match KeychainKeyStore::native(KeyNamespace::current("unavailable")) {
        Ok(store) => Vault::open(&db, Arc::new(store)).await.map(|_| ()),
        Err(error) => Err(error),
    };
    let code = result.err().map_or("opened", |error| error.code());
    println!("RESULT {code}");
}

#[test]
fn no_secret_service_is_a_typed_error() {
    require_session();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "no_keychain_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(UNAVAILABLE_CHILD_DB, &path)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", dir.path().join("no-bus").display()),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("RESULT vault.keychain_unavailable"),
        "child said: {stdout}"
    );
    assert!(!path.exists(), "no vault file is created without a key");
}
