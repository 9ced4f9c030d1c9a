//! The HOTP counter.

use std::sync::Arc;

use kaito_core::{Algorithm, OtpKind, Secret, Token};

use super::fixture::*;
use crate::*;

/// An HOTP token whose next code is number 5.
fn bank_hotp() -> Token {
    Token::new(
        "Bank",
        "me",
        OtpKind::Hotp { counter: 5 },
        Algorithm::Sha1,
        6,
        Secret::from_base32(SEED_A).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn hotp_counter_advances_atomically_and_persists() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let hotp = bank_hotp();
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
async fn a_copy_hands_out_the_code_of_now_and_audits_it_in_the_same_step() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let hotp_token = bank_hotp();
    let generator = kaito_core::CodeGenerator::new(&hotp_token);
    let hotp = vault
        .add(&hotp_token, TokenExtras::default())
        .await
        .unwrap();
    let totp_token = totp("T", "t", SEED_B);
    let totp_generator = kaito_core::CodeGenerator::new(&totp_token);
    let totp = vault
        .add(&totp_token, TokenExtras::default())
        .await
        .unwrap();

    // 1_750_000_000 is 10 s into a 30 s step: 20 s left.
    let copied = vault.code_for_copy(totp.id).await.unwrap();
    assert_eq!(
        copied.code,
        totp_generator.code_at(1_750_000_000).to_string()
    );
    assert_eq!(copied.valid_for, Some(std::time::Duration::from_secs(20)));

    let first = vault.code_for_copy(hotp.id).await.unwrap();
    let second = vault.code_for_copy(hotp.id).await.unwrap();
    assert_eq!(first.code, generator.hotp(5).to_string());
    assert_eq!(second.code, generator.hotp(6).to_string());
    assert_eq!(first.valid_for, None, "an HOTP code lasts until it is used");
    assert_eq!(
        vault.get(hotp.id).await.unwrap().kind,
        OtpKind::Hotp { counter: 7 }
    );

    let actions: Vec<_> = vault
        .pending(1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.token_id.is_some())
        .filter(|e| e.action != AuditAction::Add)
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            AuditAction::CodeCopy,
            AuditAction::CodeCopy,
            AuditAction::HotpAdvance,
            AuditAction::CodeCopy,
            AuditAction::HotpAdvance,
        ]
    );

    // Locked: no code, no event, the counter stays.
    vault.set_passphrase("pass words").await.unwrap();
    vault.lock().await.unwrap();
    let before = vault.pending(1000).await.unwrap().len();
    assert!(matches!(
        vault.code_for_copy(hotp.id).await,
        Err(VaultError::Locked)
    ));
    assert_eq!(vault.pending(1000).await.unwrap().len(), before);
}
