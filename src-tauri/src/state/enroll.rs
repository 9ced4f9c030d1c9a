//! Tokens on their way in: a link, the manual form, an export file or QR codes,
//! each waiting for its first-code check or the user's "Import".

use kaito_core::import::EntrySkip;
use kaito_core::manual::ManualEntry;
use kaito_core::qr::{Effort, Frame, ScanOutcome, ScanSession, ScanStep};
use kaito_core::{CodeGenerator, Token};
use kaito_vault::TokenExtras;

use super::{AppState, lock};
use crate::views::{
    self, ImportOutcome, ImportPreview, PendingTokenView, ScanResultView, TokenView,
};
use crate::{AppError, IpcError};

impl AppState {
    /// Parses an `otpauth://` URI into a token awaiting its first-code check.
    pub fn stage_uri(&self, uri: &str, unix_secs: u64) -> Result<PendingTokenView, IpcError> {
        let token = kaito_core::uri::parse(uri.trim())?;
        Ok(self.stage(token, unix_secs))
    }

    /// Builds a token from the manual-entry form, ready for its first-code check.
    pub fn stage_manual(
        &self,
        entry: &ManualEntry,
        unix_secs: u64,
    ) -> Result<PendingTokenView, IpcError> {
        let token = kaito_core::manual::build(entry).map_err(|errors| {
            let first = errors
                .first()
                .map_or_else(String::new, |e| e.message.clone());
            IpcError::from(AppError::ManualInvalid(first))
        })?;
        Ok(self.stage(token, unix_secs))
    }

    /// Reads an export file (any supported format) and says what importing it would do.
    pub async fn preview_import(
        &self,
        bytes: Vec<u8>,
        password: Option<String>,
        unix_secs: u64,
    ) -> Result<ImportPreview, IpcError> {
        self.vault()?;
        // Encrypted formats run a slow KDF (scrypt, PBKDF2): off the async runtime.
        let report = tokio::task::spawn_blocking(move || {
            kaito_core::detect_and_import(&bytes, password.as_deref())
        })
        .await
        .map_err(|error| IpcError::from(AppError::ImportTask(error.to_string())))??;
        let format = report.format.map_or("export", |f| f.name());
        let skipped = report.skipped.iter().map(views::skip_view).collect();
        let incomplete = report.incomplete.iter().map(ToString::to_string).collect();
        self.stage_import(
            format,
            PendingImport {
                tokens: report.tokens,
                skipped: report.skipped,
            },
            skipped,
            incomplete,
            unix_secs,
        )
        .await
    }

    /// Keeps tokens read from a file or QR codes until the user confirms the import.
    async fn stage_import(
        &self,
        format: &str,
        pending: PendingImport,
        skipped: Vec<views::ImportSkipView>,
        incomplete: Vec<String>,
        unix_secs: u64,
    ) -> Result<ImportPreview, IpcError> {
        let duplicates = self.vault()?.existing_duplicates(&pending.tokens).await?;
        let import_id = uuid::Uuid::new_v4().to_string();
        let preview = ImportPreview {
            import_id: import_id.clone(),
            format: format.to_owned(),
            entries: pending
                .tokens
                .iter()
                .zip(&duplicates)
                .map(|(token, duplicate)| {
                    views::import_entry_view(token, duplicate.is_some(), unix_secs)
                })
                .collect(),
            skipped,
            incomplete,
        };
        lock(&self.imports).insert(import_id, pending);
        Ok(preview)
    }

    /// Looks for a 2FA QR code in an image file's bytes (PNG or JPEG).
    pub async fn scan_image(
        &self,
        bytes: Vec<u8>,
        unix_secs: u64,
    ) -> Result<ScanResultView, IpcError> {
        let frame = tokio::task::spawn_blocking(move || Frame::from_image_bytes(&bytes))
            .await
            .map_err(|error| IpcError::from(AppError::ScanTask(error.to_string())))??;
        self.scan_frame(frame, unix_secs).await
    }

    /// Scans the frames of every monitor; the first that holds a 2FA code answers.
    pub async fn scan_screens(
        &self,
        frames: Vec<Frame>,
        unix_secs: u64,
    ) -> Result<ScanResultView, IpcError> {
        for frame in frames {
            match self.scan_frame(frame, unix_secs).await {
                Err(error) if error.code == "qr.no_code" => {}
                answer => return answer,
            }
        }
        Err(AppError::NoQrOnScreen.into())
    }

    /// Decodes one frame into the current scan: a token, a finished export, or the
    /// export's progress so far.
    pub async fn scan_frame(
        &self,
        frame: Frame,
        unix_secs: u64,
    ) -> Result<ScanResultView, IpcError> {
        let mut session = lock(&self.scan)
            .take()
            .unwrap_or_else(|| ScanSession::with_effort(Effort::Still));
        // Decoding takes milliseconds to tens of them: off the async runtime.
        let (session, step) = tokio::task::spawn_blocking(move || {
            let step = session.feed(&frame);
            (session, step)
        })
        .await
        .map_err(|error| IpcError::from(AppError::ScanTask(error.to_string())))?;
        let missing = session.missing_batches();
        *lock(&self.scan) = Some(session);
        self.scan_view(step, missing, unix_secs).await
    }

    /// What a scan step means to the user: a token to check, an export to preview, or
    /// the export's progress. Shared by still images and the camera.
    pub async fn scan_view(
        &self,
        step: Result<ScanStep, kaito_core::qr::QrError>,
        missing: Vec<u32>,
        unix_secs: u64,
    ) -> Result<ScanResultView, IpcError> {
        match step? {
            ScanStep::NothingFound => Err(kaito_core::qr::QrError::NoQrCode.into()),
            ScanStep::Batch { progress, .. } => Ok(ScanResultView::Progress {
                scanned: progress.scanned,
                total: progress.total,
                missing,
            }),
            ScanStep::Done(ScanOutcome::Token(parsed)) => Ok(ScanResultView::Token {
                pending: self.stage(parsed.token, unix_secs),
            }),
            ScanStep::Done(ScanOutcome::Migration(scan)) => {
                let mut tokens = Vec::new();
                let mut skipped = Vec::new();
                for entry in scan.entries {
                    match entry {
                        Ok(token) => tokens.push(token),
                        Err(error) => skipped.push(views::ImportSkipView {
                            label: if error.name.is_empty() {
                                format!("entry {}", error.position + 1)
                            } else {
                                error.name.clone()
                            },
                            reason: error.problem.to_string(),
                        }),
                    }
                }
                let pending = PendingImport {
                    tokens,
                    skipped: Vec::new(),
                };
                let preview = self
                    .stage_import(
                        "Google Authenticator export (QR)",
                        pending,
                        skipped,
                        Vec::new(),
                        unix_secs,
                    )
                    .await?;
                Ok(ScanResultView::Import { preview })
            }
        }
    }

    /// Forgets a half-scanned export (the user starts over or closes the dialog).
    pub fn reset_scan(&self) {
        *lock(&self.scan) = Some(ScanSession::with_effort(Effort::Still));
    }

    /// Imports a previewed file; entries already in the vault are skipped.
    pub async fn commit_import(&self, import_id: &str) -> Result<ImportOutcome, IpcError> {
        let vault = self.vault()?;
        let pending = lock(&self.imports)
            .get(import_id)
            .map(|p| (p.tokens.clone(), p.skipped.clone()))
            .ok_or_else(|| IpcError::from(AppError::ImportGone))?;
        let report = vault.import_tokens(&pending.0, pending.1).await?;
        lock(&self.imports).remove(import_id);
        Ok(ImportOutcome {
            added: u32::try_from(report.added.len()).unwrap_or(u32::MAX),
            duplicates: report
                .duplicates
                .into_iter()
                .map(|(name, _)| name)
                .collect(),
            unusable: report.unusable.iter().map(views::skip_view).collect(),
        })
    }

    pub fn discard_import(&self, import_id: &str) {
        lock(&self.imports).remove(import_id);
    }

    fn stage(&self, token: Token, unix_secs: u64) -> PendingTokenView {
        let pending_id = uuid::Uuid::new_v4().to_string();
        let view = views::pending_view(&pending_id, &token, unix_secs);
        lock(&self.pending).insert(pending_id, token);
        view
    }

    /// The pending token's code again (the user waits for the next period).
    pub fn pending_code(
        &self,
        pending_id: &str,
        unix_secs: u64,
    ) -> Result<PendingTokenView, IpcError> {
        let pending = lock(&self.pending);
        let token = pending.get(pending_id).ok_or_else(pending_gone)?;
        Ok(views::pending_view(pending_id, token, unix_secs))
    }

    /// The user confirmed the service accepted the code: store the token.
    pub async fn confirm(&self, pending_id: &str, unix_secs: u64) -> Result<TokenView, IpcError> {
        let vault = self.vault()?;
        let token = lock(&self.pending)
            .get(pending_id)
            .cloned()
            .ok_or_else(pending_gone)?;
        let stored = vault.add(&token, TokenExtras::default()).await?;
        // Only forget the pending token once it is safely stored.
        lock(&self.pending).remove(pending_id);
        let generator = CodeGenerator::new(&token);
        let mut view = views::token_view(&stored, Ok(views::code_view(&generator, unix_secs)));
        view.service = self.directory.brief_for(&stored);
        lock(&self.generators).insert(stored.id, generator);
        Ok(view)
    }

    pub fn discard_pending(&self, pending_id: &str) {
        lock(&self.pending).remove(pending_id);
    }
}

/// A previewed import: the tokens read and the entries that could not be.
pub(super) struct PendingImport {
    tokens: Vec<Token>,
    skipped: Vec<EntrySkip>,
}

fn pending_gone() -> IpcError {
    AppError::PendingGone.into()
}
