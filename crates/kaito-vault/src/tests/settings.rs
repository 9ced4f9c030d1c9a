//! Preferences.

use super::fixture::*;
use crate::*;

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

    vault.set_passphrase("pass words").await.unwrap();
    vault.lock().await.unwrap();
    assert_eq!(
        vault.settings().await.unwrap(),
        chosen,
        "readable while locked"
    );
    vault.close().await;
    let vault = fx.open().await.unwrap();
    assert_eq!(vault.settings().await.unwrap(), chosen);
}
