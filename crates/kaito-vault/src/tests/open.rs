//! Opening: the key from the keychain on first run and after, and what a missing or failing keychain does.

use kaito_core::Secret;

use super::fixture::*;
use crate::*;

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
