//! The HOTP counter.

use std::sync::Arc;

use kaito_core::{Algorithm, OtpKind, Secret, Token};

use super::fixture::*;
use crate::*;

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
