//! App preferences, stored in the vault database next to the tokens they govern.
//! Unknown or missing fields fall back to defaults, so an older or newer app reading
//! the same vault never fails over preferences.

use serde::{Deserialize, Serialize};

use crate::clock::unix_millis;
use crate::error::VaultError;
use crate::vault::Vault;

/// Light, dark, or whatever the desktop uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

/// Every preference the app has, with its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Settings {
    /// Lock after this many idle minutes (needs a passphrase); `None`: never.
    pub auto_lock_minutes: Option<u32>,
    /// Clear a copied code from the clipboard after this many seconds; `None`: never.
    pub clipboard_clear_secs: Option<u32>,
    pub theme: Theme,
    /// Closing the window hides Kaito in the tray instead of quitting.
    pub minimize_to_tray: bool,
    /// The key combination that opens the quick-search palette from anywhere, in
    /// accelerator form (`CommandOrControl+Alt+K`); `None`: no global shortcut.
    pub global_shortcut: Option<String>,
}

/// Kaito's own letter with modifiers few apps claim together.
pub const DEFAULT_GLOBAL_SHORTCUT: &str = "CommandOrControl+Alt+K";
/// Longer than any real accelerator: a damaged or hostile document is refused.
const MAX_SHORTCUT_LEN: usize = 64;

impl Default for Settings {
    fn default() -> Self {
        Self {
            auto_lock_minutes: Some(5),
            clipboard_clear_secs: Some(30),
            theme: Theme::System,
            minimize_to_tray: true,
            global_shortcut: Some(DEFAULT_GLOBAL_SHORTCUT.to_owned()),
        }
    }
}

/// A preference outside what the app can honour.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("auto-lock must be between 1 and 1440 minutes (a day), or off")]
    AutoLock,
    #[error("the clipboard must be cleared after 5 to 600 seconds, or never")]
    ClipboardClear,
    #[error("a shortcut is a key with modifiers, such as Ctrl+Alt+K")]
    Shortcut,
}

impl SettingsError {
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            SettingsError::AutoLock => "settings.auto_lock",
            SettingsError::ClipboardClear => "settings.clipboard_clear",
            SettingsError::Shortcut => "settings.shortcut",
        }
    }
}

impl Settings {
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self
            .auto_lock_minutes
            .is_some_and(|m| !(1..=1440).contains(&m))
        {
            return Err(SettingsError::AutoLock);
        }
        if self
            .clipboard_clear_secs
            .is_some_and(|s| !(5..=600).contains(&s))
        {
            return Err(SettingsError::ClipboardClear);
        }
        // The app checks that the desktop accepts it; this only keeps nonsense out.
        if self.global_shortcut.as_deref().is_some_and(|shortcut| {
            shortcut.trim().is_empty()
                || shortcut.len() > MAX_SHORTCUT_LEN
                || !shortcut.contains('+')
        }) {
            return Err(SettingsError::Shortcut);
        }
        Ok(())
    }
}

impl Vault {
    /// The stored preferences, or the defaults. A damaged document reads as defaults
    /// rather than failing the app's start.
    pub async fn settings(&self) -> Result<Settings, VaultError> {
        let document: Option<String> =
            sqlx::query_scalar("SELECT document FROM settings WHERE id = 1")
                .fetch_optional(self.pool())
                .await?;
        Ok(document
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default())
    }

    /// Validates and stores the preferences (works while locked: nothing secret).
    pub async fn save_settings(&self, settings: &Settings) -> Result<(), VaultError> {
        settings.validate()?;
        let document =
            serde_json::to_string(settings).map_err(|error| VaultError::CorruptDatabase {
                detail: format!("settings could not be serialised: {error}"),
            })?;
        sqlx::query(
            "INSERT INTO settings (id, document, updated_at) VALUES (1, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
        )
        .bind(document)
        .bind(unix_millis(self.now()))
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
