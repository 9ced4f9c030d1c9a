//! The passphrase lock and auto-lock.

use std::time::Duration;

use kaito_core::Secret;

use super::fixture::*;
use crate::*;

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
    // Without a passphrase a lock would keep nobody out: refused, still open.
    let refused = vault.lock().await.unwrap_err();
    assert!(matches!(refused, VaultError::LockWithoutPassphrase));
    assert_eq!(refused.code(), "vault.no_passphrase");
    assert!(!vault.is_locked());
    vault.secret(a.id).await.unwrap();
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
    vault.lock().await.unwrap();
    vault.unlock("open sesame").await.unwrap();

    vault
        .change_passphrase("open sesame", "new words")
        .await
        .unwrap();
    vault.lock().await.unwrap();
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

/// #16 L7: a plain key left in the keychain beside a passphrase (its removal
/// failed when the passphrase was set) is removed at the next open.
#[tokio::test]
async fn a_plain_key_left_beside_a_passphrase_is_removed_at_the_next_open() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let key = fx.keys().load().unwrap().unwrap();
    vault.set_passphrase("open sesame").await.unwrap();
    drop(vault);
    fx.keys().store(&key).unwrap();
    let reopened = fx.open().await.unwrap();
    assert!(reopened.is_locked());
    assert!(
        fx.keys().load().unwrap().is_none(),
        "the plain key stayed in the keychain"
    );
    reopened.unlock("open sesame").await.unwrap();
}
