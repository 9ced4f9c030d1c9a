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

/// The app shell's own failures (the crates' errors carry their own codes). The UI
/// picks wording or actions by [`AppError::code`], so codes never change.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0:?} is not a token id")]
    BadTokenId(String),
    #[error("This token is no longer waiting to be added; start again.")]
    PendingGone,
    #[error("{0}")]
    ManualInvalid(String),
    #[error("This import is no longer waiting; open the file again.")]
    ImportGone,
    #[error("{0}")]
    ImportTask(String),
    #[error("{0}")]
    ScanTask(String),
    #[error(
        "No QR code found on your screens. Make sure the whole code is visible, then try again."
    )]
    NoQrOnScreen,
    #[error("Enter your passphrase to show this secret.")]
    RevealNeedsPassphrase,
    #[error("The secret stays hidden: showing it was not confirmed.")]
    RevealNotConfirmed,
    #[error("The QR code could not be drawn: {0}")]
    RevealQr(String),
    #[error("“{text}” is not a shortcut Kaito understands ({detail}).")]
    ShortcutInvalid { text: String, detail: String },
    #[error("{0} is already taken by another app or the desktop. Choose another combination.")]
    ShortcutTaken(String),
    #[error("The 2FA directory server answered {status} for {url}; the cached copy stays in use.")]
    DirectoryStatus { status: String, url: String },
    #[error("The download from {0} is over 32 MB, so it is not the 2FA directory.")]
    DirectoryTooLarge(String),
    #[error(
        "Could not download the 2FA directory from {url} ({detail}). The cached copy stays in use."
    )]
    DirectoryOffline { url: String, detail: String },
    #[error("Only web links can be opened, not {0:?}.")]
    NotWebLink(String),
    #[error("Could not open the browser: {0}")]
    LinkOpenFailed(String),
    #[error("Could not change starting at login: {0}")]
    Autostart(String),
    #[error("{0}")]
    ClipboardUnavailable(String),
    #[error("The clipboard holds no image. Copy a screenshot of the QR code first.")]
    ClipboardNoImage,
    #[error("{0}")]
    Camera(String),
    #[error("Team mode is not running.")]
    TeamNotRunning,
    #[error("{0}")]
    TeamFormInvalid(String),
    #[error("{0}")]
    ExportFailed(String),
}

impl AppError {
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadTokenId(_) => "token.bad_id",
            Self::PendingGone => "token.pending_gone",
            Self::ManualInvalid(_) => "manual.invalid",
            Self::ImportGone => "import.gone",
            Self::ImportTask(_) => "import.task",
            Self::ScanTask(_) => "qr.task",
            Self::NoQrOnScreen => "qr.no_code",
            Self::RevealNeedsPassphrase => "reveal.passphrase_required",
            Self::RevealNotConfirmed => "reveal.not_confirmed",
            Self::RevealQr(_) => "reveal.qr",
            Self::ShortcutInvalid { .. } => "shortcut.invalid",
            Self::ShortcutTaken(_) => "shortcut.unavailable",
            Self::DirectoryStatus { .. } => "directory.http_status",
            Self::DirectoryTooLarge(_) => "directory.too_large",
            Self::DirectoryOffline { .. } => "directory.offline",
            Self::NotWebLink(_) => "link.not_web",
            Self::LinkOpenFailed(_) => "link.open_failed",
            Self::Autostart(_) => "autostart.failed",
            Self::ClipboardUnavailable(_) => "clipboard.unavailable",
            Self::ClipboardNoImage => "clipboard.no_image",
            Self::Camera(_) => "camera.failed",
            Self::TeamNotRunning => "team.not_linked",
            Self::TeamFormInvalid(_) => "team.invalid",
            Self::ExportFailed(_) => "export.failed",
        }
    }
}

impl From<AppError> for IpcError {
    fn from(error: AppError) -> Self {
        Self::new(error.code(), error.to_string())
    }
}
