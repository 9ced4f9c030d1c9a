//! The team sign-in's keychain entry, sealed with the vault key (#16 M9).

use std::sync::Arc;

use super::fixture::*;
use crate::*;

const SIGN_IN: &str = r#"{"refresh_token":"rt-kept-secret","device_key":"dk-kept-secret"}"#;

#[tokio::test]
async fn the_keychain_holds_only_ciphertext_and_the_lock_closes_it() {
    let fx = Fixture::new();
    let vault = Arc::new(fx.open().await.unwrap());
    let keychain: Arc<dyn SecretSlot> = Arc::new(fx.keys().secret("team"));
    let slot = SealedSlot::new(keychain.clone(), vault.clone());
    slot.store(SIGN_IN).unwrap();
    let raw = keychain.load().unwrap().unwrap();
    assert!(raw.starts_with("kaito-sealed:v1:"), "{}", raw.as_str());
    assert!(!raw.contains("kept-secret"));
    assert_eq!(slot.load().unwrap().unwrap().as_str(), SIGN_IN);

    vault.set_passphrase("open sesame").await.unwrap();
    vault.lock().await.unwrap();
    assert!(matches!(slot.load(), Err(VaultError::Locked)));
    assert!(matches!(slot.store(SIGN_IN), Err(VaultError::Locked)));
    // Nothing was lost by the refusals.
    assert_eq!(keychain.load().unwrap().unwrap(), raw);
    vault.unlock("open sesame").await.unwrap();
    assert_eq!(slot.load().unwrap().unwrap().as_str(), SIGN_IN);

    // A damaged entry is an error, never a garbled sign-in.
    keychain
        .store("kaito-sealed:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .unwrap();
    assert!(matches!(
        slot.load(),
        Err(VaultError::CorruptDatabase { .. })
    ));
    slot.delete().unwrap();
    assert!(slot.load().unwrap().is_none());
}

#[tokio::test]
async fn an_entry_an_earlier_kaito_kept_in_the_clear_is_sealed_at_its_next_read() {
    let fx = Fixture::new();
    let vault = Arc::new(fx.open().await.unwrap());
    let keychain: Arc<dyn SecretSlot> = Arc::new(fx.keys().secret("team"));
    keychain.store(SIGN_IN).unwrap();
    let slot = SealedSlot::new(keychain.clone(), vault.clone());

    vault.set_passphrase("open sesame").await.unwrap();
    vault.lock().await.unwrap();
    // Readable by anyone, but not handed out by a locked Kaito.
    assert!(matches!(slot.load(), Err(VaultError::Locked)));
    vault.unlock("open sesame").await.unwrap();
    assert_eq!(slot.load().unwrap().unwrap().as_str(), SIGN_IN);
    let raw = keychain.load().unwrap().unwrap();
    assert!(raw.starts_with("kaito-sealed:v1:"));
    assert!(!raw.contains("kept-secret"));
    assert_eq!(slot.load().unwrap().unwrap().as_str(), SIGN_IN);
}
