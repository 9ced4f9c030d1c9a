//! What the UI receives. These types cross the IPC boundary, so they derive `TS` and
//! the UI's TypeScript types are generated from them. No view ever carries a seed.

use std::time::SystemTime;

use kaito_core::directory::{Method, Service};
use kaito_core::{Algorithm, CodeGenerator, OtpKind, Token};
use kaito_vault::StoredToken;
use serde::Serialize;

/// "totp" | "hotp" | "steam".
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum TokenKind {
    Totp,
    Hotp,
    Steam,
}

/// The codes of one token at one instant.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CodeView {
    pub current: String,
    /// The code of the next period; absent for HOTP, whose codes change on use.
    pub next: Option<String>,
    /// Seconds until `current` expires (TOTP/Steam).
    pub remaining_secs: Option<u32>,
    pub period: Option<u32>,
}

/// One token as the list shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TokenView {
    pub id: String,
    pub issuer: String,
    pub account: String,
    pub kind: TokenKind,
    pub algorithm: String,
    pub digits: u32,
    pub group: Option<String>,
    pub favorite: bool,
    /// Absent when the seed could not be decrypted; `code_error` says why.
    pub code: Option<CodeView>,
    pub code_error: Option<String>,
    /// The token's service in the 2FA directory, when its issuer is recognised.
    pub service: Option<ServiceBrief>,
}

/// A token parsed from a URI or form and waiting for the "verify the first code" step.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PendingTokenView {
    pub pending_id: String,
    pub issuer: String,
    pub account: String,
    pub kind: TokenKind,
    pub algorithm: String,
    pub digits: u32,
    pub code: CodeView,
    /// Bits of secret; under 128 earns a gentle warning in the UI.
    pub secret_bits: u32,
}

/// What `delete_token` returns so the UI can offer "Undo".
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DeletedToken {
    pub id: String,
    /// Milliseconds since the Unix epoch; hand back to `undo_delete`.
    pub deleted_at_ms: f64,
}

pub fn kind_of(kind: OtpKind) -> TokenKind {
    match kind {
        OtpKind::Totp { .. } => TokenKind::Totp,
        OtpKind::Hotp { .. } => TokenKind::Hotp,
        OtpKind::Steam { .. } => TokenKind::Steam,
    }
}

pub fn algorithm_name(algorithm: Algorithm) -> String {
    algorithm.name().to_owned()
}

pub fn unix_now() -> u64 {
    kaito_core::clock::unix_secs(SystemTime::now())
}

/// Current (and next) code of a generator at `unix_secs`.
pub fn code_view(generator: &CodeGenerator, unix_secs: u64) -> CodeView {
    match generator.window(unix_secs) {
        Some(window) => CodeView {
            current: window.current.to_string(),
            next: Some(window.next.to_string()),
            remaining_secs: Some(window.remaining_secs),
            period: Some(window.period),
        },
        None => CodeView {
            current: generator.code_at(unix_secs).to_string(),
            next: None,
            remaining_secs: None,
            period: None,
        },
    }
}

pub fn token_view(stored: &StoredToken, code: Result<CodeView, String>) -> TokenView {
    let (code, code_error) = match code {
        Ok(view) => (Some(view), None),
        Err(message) => (None, Some(message)),
    };
    TokenView {
        id: stored.id.to_string(),
        issuer: stored.issuer.clone(),
        account: stored.account.clone(),
        kind: kind_of(stored.kind),
        algorithm: algorithm_name(stored.algorithm),
        digits: stored.digits,
        group: stored.group.clone(),
        favorite: stored.favorite,
        code,
        code_error,
        service: None,
    }
}

pub fn pending_view(pending_id: &str, token: &Token, unix_secs: u64) -> PendingTokenView {
    PendingTokenView {
        pending_id: pending_id.to_owned(),
        issuer: token.issuer.clone(),
        account: token.account.clone(),
        kind: kind_of(token.kind),
        algorithm: algorithm_name(token.algorithm),
        digits: token.digits,
        code: code_view(&CodeGenerator::new(token), unix_secs),
        secret_bits: u32::try_from(token.secret.bits()).unwrap_or(u32::MAX),
    }
}

/// A 2FA method: `id` for styling (`totp`, `sms`, `email`, `call`, `u2f`,
/// `custom-software`, `custom-hardware`, or the directory's own name), `label` to show.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct MethodView {
    pub id: String,
    pub label: String,
}

impl From<&Method> for MethodView {
    fn from(method: &Method) -> Self {
        Self {
            id: method.id().to_owned(),
            label: method.label().to_owned(),
        }
    }
}

/// A service from the 2FA directory, everything the directory page and token detail show.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ServiceView {
    pub name: String,
    /// Main domain first.
    pub domains: Vec<String>,
    pub methods: Vec<MethodView>,
    /// "Supports 2FA via TOTP, SMS" or "No 2FA — ask them".
    pub verdict: String,
    pub supports_2fa: bool,
    pub custom_software: Vec<String>,
    pub custom_hardware: Vec<String>,
    pub documentation: Option<String>,
    pub recovery: Option<String>,
    pub notes: Option<String>,
    pub regions: Vec<String>,
    /// Set when the service offers TOTP next to SMS, email or calls.
    pub totp_suggestion: Option<String>,
}

impl From<&Service> for ServiceView {
    fn from(service: &Service) -> Self {
        Self {
            name: service.name.clone(),
            domains: service.domains.clone(),
            methods: service.methods.iter().map(MethodView::from).collect(),
            verdict: service.verdict(),
            supports_2fa: service.supports_2fa(),
            custom_software: service.custom_software.clone(),
            custom_hardware: service.custom_hardware.clone(),
            documentation: service.documentation.clone(),
            recovery: service.recovery.clone(),
            notes: service.notes.clone(),
            regions: service.regions.clone(),
            totp_suggestion: service.totp_suggestion(),
        }
    }
}

/// What a token row shows of its service.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ServiceBrief {
    pub name: String,
    pub domain: String,
    pub verdict: String,
}

impl From<&Service> for ServiceBrief {
    fn from(service: &Service) -> Self {
        Self {
            name: service.name.clone(),
            domain: service.domain().to_owned(),
            verdict: service.verdict(),
        }
    }
}

/// The directory's freshness and source, for the directory page's status line.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DirectoryStatus {
    /// 0 until a first download succeeded.
    pub services: u32,
    /// When this device last downloaded (or confirmed) the data, ms since the epoch.
    pub fetched_at_ms: Option<f64>,
    /// The data's own date (the server's Last-Modified), ms since the epoch.
    pub data_date_ms: Option<f64>,
    pub source_url: String,
    pub updating: bool,
    /// Why the last update failed; the cached data stays in use.
    pub last_error: Option<crate::IpcError>,
    /// The MIT attribution to show with the data.
    pub attribution: String,
}

/// Milliseconds since the Unix epoch, as JavaScript dates want them.
pub fn millis(time: SystemTime) -> f64 {
    kaito_core::clock::UnixMillis::from(time).as_js()
}

/// A form field's problem, shown next to the input as the user types.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct FieldErrorView {
    /// "name" | "secret" | "kind" | "algorithm" | "digits" | "period".
    pub field: String,
    pub message: String,
}

impl From<&kaito_core::manual::FieldError> for FieldErrorView {
    fn from(error: &kaito_core::manual::FieldError) -> Self {
        let field = serde_json::to_value(error.field)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default();
        Self {
            field,
            message: error.message.clone(),
        }
    }
}

/// One token an import file holds, with its current code so the user can compare it
/// with the old app before importing (the first-code check for a whole file).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImportEntryView {
    pub issuer: String,
    pub account: String,
    pub kind: TokenKind,
    pub group: Option<String>,
    pub code: CodeView,
    /// Already in the vault (same issuer, account and secret): will be skipped.
    pub duplicate: bool,
}

/// An entry of the file that cannot be imported, and why.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ImportSkipView {
    pub label: String,
    pub reason: String,
}

/// What a file would add, before anything is stored.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImportPreview {
    pub import_id: String,
    /// "Aegis vault", "2FAS backup", …
    pub format: String,
    pub entries: Vec<ImportEntryView>,
    pub skipped: Vec<ImportSkipView>,
    /// Missing parts of multi-QR Google exports ("QR code 2 of 3 missing …").
    pub incomplete: Vec<String>,
}

/// What an import did.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ImportOutcome {
    pub added: u32,
    /// Names of entries that were already in the vault.
    pub duplicates: Vec<String>,
    pub unusable: Vec<ImportSkipView>,
}

pub fn import_entry_view(token: &Token, duplicate: bool, unix_secs: u64) -> ImportEntryView {
    ImportEntryView {
        issuer: token.issuer.clone(),
        account: token.account.clone(),
        kind: kind_of(token.kind),
        group: token.group.clone(),
        code: code_view(&CodeGenerator::new(token), unix_secs),
        duplicate,
    }
}

pub fn skip_view(skip: &kaito_core::import::EntrySkip) -> ImportSkipView {
    ImportSkipView {
        label: skip.label.clone(),
        reason: skip.reason.to_string(),
    }
}

/// The manual-entry form as the UI sends it.
#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ManualEntryForm {
    pub issuer: String,
    pub account: String,
    pub secret: String,
    pub kind: TokenKind,
    /// "SHA1" | "SHA256" | "SHA512".
    pub algorithm: String,
    pub digits: u32,
    pub period: u32,
    /// Starting counter for HOTP. A JavaScript number: exact up to 2^53.
    #[ts(type = "number")]
    pub counter: u64,
}

impl From<ManualEntryForm> for kaito_core::manual::ManualEntry {
    fn from(form: ManualEntryForm) -> Self {
        Self {
            issuer: form.issuer,
            account: form.account,
            secret: form.secret,
            kind: match form.kind {
                TokenKind::Totp => "totp",
                TokenKind::Hotp => "hotp",
                TokenKind::Steam => "steam",
            }
            .to_owned(),
            algorithm: form.algorithm,
            digits: form.digits,
            period: form.period,
            counter: form.counter,
        }
    }
}

/// Changes to a token's names, group or favourite flag; absent fields stay as they are.
#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TokenEditForm {
    #[ts(optional)]
    pub issuer: Option<String>,
    #[ts(optional)]
    pub account: Option<String>,
    /// Empty string: no group.
    #[ts(optional)]
    pub group: Option<String>,
    #[ts(optional)]
    pub favorite: Option<bool>,
}

/// Whether the vault is locked, and whether it can be (a passphrase is set).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct LockStatus {
    pub locked: bool,
    pub has_passphrase: bool,
}

/// "system" | "light" | "dark".
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum ThemeView {
    System,
    Light,
    Dark,
}

/// The preferences as the settings page edits them.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SettingsView {
    /// Idle minutes before locking (with a passphrase); null: never.
    pub auto_lock_minutes: Option<u32>,
    /// Seconds before a copied code is cleared; null: never.
    pub clipboard_clear_secs: Option<u32>,
    pub theme: ThemeView,
    pub minimize_to_tray: bool,
    /// Opens the quick-search palette from anywhere (`CommandOrControl+Alt+K`); null:
    /// none.
    pub global_shortcut: Option<String>,
}

impl From<kaito_vault::Settings> for SettingsView {
    fn from(settings: kaito_vault::Settings) -> Self {
        Self {
            auto_lock_minutes: settings.auto_lock_minutes,
            clipboard_clear_secs: settings.clipboard_clear_secs,
            theme: match settings.theme {
                kaito_vault::Theme::System => ThemeView::System,
                kaito_vault::Theme::Light => ThemeView::Light,
                kaito_vault::Theme::Dark => ThemeView::Dark,
            },
            minimize_to_tray: settings.minimize_to_tray,
            global_shortcut: settings.global_shortcut,
        }
    }
}

impl From<SettingsView> for kaito_vault::Settings {
    fn from(view: SettingsView) -> Self {
        Self {
            auto_lock_minutes: view.auto_lock_minutes,
            clipboard_clear_secs: view.clipboard_clear_secs,
            theme: match view.theme {
                ThemeView::System => kaito_vault::Theme::System,
                ThemeView::Light => kaito_vault::Theme::Light,
                ThemeView::Dark => kaito_vault::Theme::Dark,
            },
            minimize_to_tray: view.minimize_to_tray,
            global_shortcut: view.global_shortcut,
        }
    }
}

/// What scanning a QR code led to.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum ScanResultView {
    /// One `otpauth://` code: straight to its first-code check.
    Token { pending: PendingTokenView },
    /// A complete Google Authenticator export: preview it like an import.
    Import { preview: ImportPreview },
    /// Part of a multi-code export: scan the codes still missing (numbered from 1).
    Progress {
        scanned: u32,
        total: u32,
        missing: Vec<u32>,
    },
}

/// A token's secret shown to its owner for moving it elsewhere (audited).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RevealedSecret {
    /// Base32 in groups of four, as services print it.
    pub secret: String,
    /// The `otpauth://` link other authenticators accept.
    pub uri: String,
    /// That link as a QR code, an SVG document.
    pub qr_svg: String,
}

/// An authenticator being set up for the team account: scanned from the QR code
/// or typed in, then confirmed with its first code.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TotpEnrolmentView {
    /// Base32 in groups of four.
    pub secret: String,
    /// The `otpauth://` link as a QR code, an SVG document.
    pub qr_svg: String,
}

/// The team account's second factors.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct MfaStatusView {
    pub totp: bool,
    pub recovery_codes_left: u32,
}

/// `text` (an `otpauth://` link) as a QR code, an SVG document at least `size`
/// pixels square.
pub fn qr_svg(text: &str, size: u32) -> Result<String, crate::IpcError> {
    Ok(qrcode::QrCode::new(text.as_bytes())
        .map_err(|error| crate::IpcError::from(crate::AppError::RevealQr(error.to_string())))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(size, size)
        .quiet_zone(true)
        .build())
}

/// A base32 secret in groups of four, as services print it.
#[must_use]
pub fn in_groups_of_four(base32: &str) -> String {
    base32
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
