//! The one error shape the UI sees: `{code, message}`. `code` is stable and
//! machine-readable (the UI picks wording or actions by it); `message` is for people.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, thiserror::Error, ts_rs::TS)]
#[ts(export)]
#[error("{message}")]
pub struct IpcError {
    pub code: String,
    pub message: String,
}

impl IpcError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

impl From<kaito_vault::VaultError> for IpcError {
    fn from(error: kaito_vault::VaultError) -> Self {
        Self::new(error.code(), error.to_string())
    }
}

impl From<kaito_core::UriError> for IpcError {
    fn from(error: kaito_core::UriError) -> Self {
        // The message never contains the secret (kaito-core guarantees it).
        Self::new(
            "uri.invalid",
            format!("This is not a usable otpauth:// link: {error}."),
        )
    }
}

impl From<kaito_core::ImportError> for IpcError {
    fn from(error: kaito_core::ImportError) -> Self {
        Self::new(error.code(), format!("Import failed: {error}."))
    }
}

impl From<kaito_core::qr::QrError> for IpcError {
    fn from(error: kaito_core::qr::QrError) -> Self {
        Self::new(error.code(), error.to_string())
    }
}
