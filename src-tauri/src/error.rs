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
        Self { code: code.to_owned(), message: message.into() }
    }
}
