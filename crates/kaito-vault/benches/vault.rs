//! Vault benchmarks against the real keychain and real `SQLite` files. Run inside the
//! test session so the Secret Service is there:
//!
//!     scripts/with-test-session.sh cargo bench -p kaito-vault
//!
//! - `open_1000_decrypt_all`: open an existing vault of 1,000 tokens (keychain read,
//!   migrations check, key check) and decrypt every seed, as the app does at start.
//! - `append_10000_audit_events`: 10,000 code-copy events, each its own durable
//!   transaction (synchronous = FULL), as the app writes them.

#![allow(
    clippy::expect_used,
    reason = "benchmark set-up on fixed, valid inputs"
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kaito_core::{Algorithm, OtpKind, Secret, Token};
use kaito_vault::{CodeUse, KeyNamespace, KeyStore, KeychainKeyStore, TokenExtras, Vault};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn keys(profile: &str) -> Arc<KeychainKeyStore> {
    assert_eq!(
        std::env::var("KAITO_TEST_SESSION").as_deref(),
        Ok("inner"),
        "run the vault benchmarks through scripts/with-test-session.sh (they use the real keychain)"
    );
    Arc::new(KeychainKeyStore::native(KeyNamespace::current(profile)).expect("Secret Service"))
}

fn token(index: usize) -> Token {
    let mut seed = vec![0u8; 20];
    seed[..8].copy_from_slice(&(index as u64).to_be_bytes());
    Token::new(
        format!("Issuer {index}"),
        format!("user{index}@example.com"),
        OtpKind::Totp { period: 30 },
        Algorithm::Sha1,
        6,
        Secret::from_bytes(seed).expect("non-empty"),
    )
    .expect("valid token")
}

fn open_and_decrypt(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("vault.db");
    let profile = format!("bench-open-{}", uuid::Uuid::new_v4());
    rt.block_on(async {
        let vault = Vault::open(&path, keys(&profile))
            .await
            .expect("create vault");
        for index in 0..1000 {
            vault
                .add(&token(index), TokenExtras::default())
                .await
                .expect("add");
        }
        vault.close().await;
    });

    let mut group = c.benchmark_group("kaito-vault");
    group.sample_size(30);
    group.bench_function("open_1000_decrypt_all", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let (elapsed, vault) = rt.block_on(async {
                    let start = Instant::now();
                    let vault = Vault::open(&path, keys(&profile)).await.expect("open");
                    let secrets = vault.secrets().await.expect("secrets");
                    assert_eq!(
                        secrets.iter().filter(|(_, secret)| secret.is_ok()).count(),
                        1000
                    );
                    black_box(&secrets);
                    (start.elapsed(), vault)
                });
                total += elapsed;
                // Closing (WAL checkpoint) is not part of what the user waits for.
                rt.block_on(vault.close());
            }
            total
        });
    });
    group.finish();
    keys(&profile).delete().expect("clean up keychain entry");
}

fn append_audit_events(c: &mut Criterion) {
    const EVENTS: u64 = 10_000;
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("vault.db");
    let profile = format!("bench-audit-{}", uuid::Uuid::new_v4());
    let vault = rt
        .block_on(Vault::open(&path, keys(&profile)))
        .expect("create vault");
    let id = rt
        .block_on(vault.add(&token(0), TokenExtras::default()))
        .expect("add")
        .id;

    let mut group = c.benchmark_group("kaito-vault");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30))
        .throughput(Throughput::Elements(EVENTS));
    group.bench_function("append_10000_audit_events", |b| {
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..EVENTS {
                    vault
                        .record_code_use(id, CodeUse::Copy)
                        .await
                        .expect("append");
                }
            });
        });
    });
    group.finish();
    rt.block_on(async {
        vault
            .verify_chain()
            .await
            .expect("chain verifies after the benchmark");
        vault.close().await;
    });
    keys(&profile).delete().expect("clean up keychain entry");
}

criterion_group!(benches, open_and_decrypt, append_audit_events);
criterion_main!(benches);
