//! The app's state: the open vault, a cache of keyed code generators, and tokens
//! waiting for their first-code check. Passed to commands through Tauri's state.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kaito_core::import::EntrySkip;
use kaito_core::manual::ManualEntry;
use kaito_core::qr::{Effort, Frame, ScanOutcome, ScanSession, ScanStep};
use kaito_core::{CodeGenerator, Token};
use kaito_vault::{
    CodeUse, KeyNamespace, KeychainKeyStore, Settings, TokenEdit, TokenExtras, TokenId, UndoHandle,
    Vault,
};

use crate::AppError;
use crate::IpcError;
use crate::directory::DirectoryState;
use crate::views::{
    self, DeletedToken, ImportOutcome, ImportPreview, LockStatus, PendingTokenView, RevealedSecret,
    ScanResultView, TokenEditForm, TokenView,
};

/// A code just taken for the clipboard, and how long it stays valid (`None`: HOTP,
/// valid until used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedCode {
    pub code: String,
    pub valid_for: Option<Duration>,
}

pub struct AppState {
    /// The vault, or why it could not be opened (shown by every command, so the UI
    /// can explain a missing keychain instead of showing an empty list).
    vault: Result<Arc<Vault>, IpcError>,
    /// Keyed generators: building one decrypts the seed, so it happens once per
    /// token, not once per refresh.
    generators: Mutex<HashMap<TokenId, CodeGenerator>>,
    pending: Mutex<HashMap<String, Token>>,
    /// Files read and previewed, waiting for "Import".
    imports: Mutex<HashMap<String, PendingImport>>,
    /// The QR scan in progress: collects the codes of a multi-code export across
    /// images. `None` while a decode runs.
    scan: Mutex<Option<ScanSession>>,
    /// Preferences, cached from the vault (the close handler reads them synchronously).
    settings: std::sync::RwLock<Settings>,
    /// The 2FA directory, to name each token's service.
    directory: Arc<DirectoryState>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("vault_open", &self.vault.is_ok())
            .finish_non_exhaustive()
    }
}

/// Locks, ignoring poisoning: a panic elsewhere must not take the whole app down.
/// The app's shared state holds no invariant a half-finished update could break.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn parse_id(id: &str) -> Result<TokenId, IpcError> {
    id.parse()
        .map_err(|_| AppError::BadTokenId(id.to_owned()).into())
}

impl AppState {
    /// Opens (or creates) the vault in `data_dir` with its key in the OS keychain.
    pub async fn open(data_dir: &Path, directory: Arc<DirectoryState>) -> Self {
        let vault = Self::open_vault(data_dir).await.map(Arc::new);
        if let Err(error) = &vault {
            tracing::error!(code = %error.code, %error, "the vault could not be opened");
        }
        Self {
            vault,
            generators: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            imports: Mutex::new(HashMap::new()),
            scan: Mutex::new(Some(ScanSession::with_effort(Effort::Still))),
            settings: std::sync::RwLock::new(Settings::default()),
            directory,
        }
    }

    /// Loads the stored preferences and applies the auto-lock delay.
    pub async fn load_settings(&self) {
        let Ok(vault) = self.vault() else { return };
        match vault.settings().await {
            Ok(settings) => {
                self.apply(vault, &settings).await;
                *self
                    .settings
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = settings;
            }
            Err(error) => tracing::warn!(%error, "preferences could not be read; using defaults"),
        }
    }

    async fn apply(&self, vault: &Vault, settings: &Settings) {
        // Auto-lock only means something behind a passphrase: without one the key
        // comes straight back from the keychain.
        let protected = vault.has_passphrase().await.unwrap_or(false);
        vault.set_auto_lock(
            settings
                .auto_lock_minutes
                .filter(|_| protected)
                .map(|minutes| Duration::from_secs(u64::from(minutes) * 60)),
        );
    }

    pub fn settings(&self) -> Settings {
        self.settings
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub async fn save_settings(&self, settings: Settings) -> Result<Settings, IpcError> {
        let vault = self.vault()?;
        vault.save_settings(&settings).await?;
        self.apply(vault, &settings).await;
        *self
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner) = settings.clone();
        Ok(settings)
    }

    /// When copied codes leave the clipboard, if ever.
    pub fn clipboard_clear_after(&self) -> Option<Duration> {
        self.settings()
            .clipboard_clear_secs
            .map(|secs| Duration::from_secs(u64::from(secs)))
    }

    pub async fn lock_status(&self) -> Result<LockStatus, IpcError> {
        let vault = self.vault()?;
        Ok(LockStatus {
            locked: vault.is_locked(),
            has_passphrase: vault.has_passphrase().await?,
        })
    }

    /// Locks now; only with a passphrase set (otherwise anyone could unlock).
    pub async fn lock(&self) -> Result<LockStatus, IpcError> {
        let vault = self.vault()?;
        if !vault.has_passphrase().await? {
            return Err(IpcError::new(
                "vault.no_passphrase",
                "Set a passphrase first: without one, locking would not keep anyone out.",
            ));
        }
        vault.lock();
        self.forget_secrets();
        self.lock_status().await
    }

    /// Locks if idle for the auto-lock delay; says whether it did.
    pub fn lock_if_idle(&self) -> bool {
        let Ok(vault) = self.vault() else {
            return false;
        };
        let locked = vault.lock_if_idle(std::time::Instant::now());
        if locked {
            self.forget_secrets();
        }
        locked
    }

    /// Drops everything derived from seeds: keyed generators, tokens waiting for their
    /// code check, previewed imports.
    fn forget_secrets(&self) {
        self.reset_scan();
        lock(&self.generators).clear();
        lock(&self.pending).clear();
        lock(&self.imports).clear();
    }

    pub async fn unlock(&self, passphrase: &str) -> Result<LockStatus, IpcError> {
        let vault = self.vault()?;
        vault.unlock(passphrase).await?;
        self.lock_status().await
    }

    pub async fn set_passphrase(&self, passphrase: &str) -> Result<LockStatus, IpcError> {
        let vault = self.vault()?;
        vault.set_passphrase(passphrase).await?;
        self.apply(vault, &self.settings()).await;
        self.lock_status().await
    }

    pub async fn change_passphrase(
        &self,
        current: &str,
        new: &str,
    ) -> Result<LockStatus, IpcError> {
        self.vault()?.change_passphrase(current, new).await?;
        self.lock_status().await
    }

    pub async fn remove_passphrase(&self, current: &str) -> Result<LockStatus, IpcError> {
        let vault = self.vault()?;
        vault.remove_passphrase(current).await?;
        self.apply(vault, &self.settings()).await;
        self.lock_status().await
    }

    /// The user did something: restarts the auto-lock countdown.
    pub fn touch(&self) {
        if let Ok(vault) = self.vault() {
            vault.touch();
        }
    }

    async fn open_vault(data_dir: &Path) -> Result<Vault, IpcError> {
        let store = KeychainKeyStore::native(KeyNamespace::current(keychain_profile(data_dir)))?;
        Ok(Vault::open(data_dir.join("vault.sqlite"), Arc::new(store)).await?)
    }

    pub fn vault(&self) -> Result<&Arc<Vault>, IpcError> {
        self.vault.as_ref().map_err(Clone::clone)
    }

    /// Every live token with its codes at `unix_secs`.
    pub async fn list(&self, unix_secs: u64) -> Result<Vec<TokenView>, IpcError> {
        let vault = self.vault()?;
        let tokens = vault.list().await?;
        let missing = {
            let generators = lock(&self.generators);
            tokens
                .iter()
                .any(|token| !generators.contains_key(&token.id))
        };
        let mut failures = HashMap::new();
        if missing {
            // Matched by id: list() and secrets() are separate queries, so a token added
            // in between must not shift every seed onto its neighbour's metadata.
            let mut secrets: HashMap<_, _> = vault.secrets().await?.into_iter().collect();
            let mut generators = lock(&self.generators);
            for token in &tokens {
                match secrets.remove(&token.id) {
                    Some(Ok(secret)) => {
                        generators
                            .insert(token.id, CodeGenerator::new(&with_secret(token, secret)));
                    }
                    Some(Err(error)) => {
                        failures.insert(token.id, error.to_string());
                    }
                    None => {}
                }
            }
        }
        let generators = lock(&self.generators);
        Ok(tokens
            .iter()
            .map(|token| {
                let code = match (generators.get(&token.id), failures.remove(&token.id)) {
                    (_, Some(error)) => Err(error),
                    (Some(generator), None) => Ok(views::code_view(generator, unix_secs)),
                    (None, None) => Err("the secret of this token could not be read".to_owned()),
                };
                let mut view = views::token_view(token, code);
                view.service = self.directory.brief_for(token);
                view
            })
            .collect())
    }

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

    /// The code to copy, computed now (never a stale one from the list), audited.
    pub async fn code_for_copy(&self, id: &str) -> Result<CopiedCode, IpcError> {
        let id = parse_id(id)?;
        let vault = self.vault()?;
        let stored = vault.get(id).await?;
        let secret = vault.secret_for_code(id, CodeUse::Copy).await?;
        let generator = CodeGenerator::new(&with_secret(&stored, secret));
        if let kaito_core::OtpKind::Hotp { .. } = stored.kind {
            let counter = vault.next_hotp_counter(id).await?;
            return Ok(CopiedCode {
                code: generator.hotp(counter).to_string(),
                valid_for: None,
            });
        }
        let now = views::unix_now();
        Ok(CopiedCode {
            code: generator.code_at(now).to_string(),
            valid_for: generator
                .window(now)
                .map(|window| Duration::from_secs(u64::from(window.remaining_secs))),
        })
    }

    /// The current code and seconds left of each time-based token among `ids` whose
    /// generator is ready (the list has been shown since the last unlock). Nothing is
    /// decrypted here: the tray asks every second.
    pub fn live_codes(&self, ids: &[&str], unix_secs: u64) -> HashMap<String, (String, u32)> {
        let generators = lock(&self.generators);
        ids.iter()
            .filter_map(|id| {
                let generator = generators.get(&id.parse().ok()?)?;
                let window = generator.window(unix_secs)?;
                Some((
                    (*id).to_owned(),
                    (window.current.grouped(), window.remaining_secs),
                ))
            })
            .collect()
    }

    /// The secret, its link and a QR code, for moving a token to another device. With
    /// a passphrase set, it must be entered again: an unlocked, unattended window must
    /// not be enough to walk away with seeds. Audited as a seed reveal.
    pub async fn reveal(
        &self,
        id: &str,
        passphrase: Option<&str>,
    ) -> Result<RevealedSecret, IpcError> {
        let id = parse_id(id)?;
        let vault = self.vault()?;
        if vault.has_passphrase().await? {
            let passphrase = passphrase
                .filter(|p| !p.is_empty())
                .ok_or_else(|| IpcError::from(AppError::RevealNeedsPassphrase))?;
            vault.unlock(passphrase).await?;
        }
        let stored = vault.get(id).await?;
        let token = with_secret(&stored, vault.reveal_secret(id).await?);
        let uri = kaito_core::uri::to_uri(&token);
        let qr_svg = qrcode::QrCode::new(uri.as_bytes())
            .map_err(|error| IpcError::from(AppError::RevealQr(error.to_string())))?
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(232, 232)
            .quiet_zone(true)
            .build();
        let base32 = token.secret.to_base32();
        let grouped: Vec<String> = base32
            .as_bytes()
            .chunks(4)
            .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
            .collect();
        Ok(RevealedSecret {
            secret: grouped.join(" "),
            uri: uri.to_string(),
            qr_svg,
        })
    }

    /// Renames, regroups or (un)favourites a token; empty group means none.
    pub async fn edit(&self, id: &str, edit: TokenEditForm) -> Result<TokenView, IpcError> {
        let id = parse_id(id)?;
        let vault = self.vault()?;
        let group = edit
            .group
            .map(|g| Some(g.trim().to_owned()).filter(|g| !g.is_empty()));
        let stored = vault
            .edit(
                id,
                TokenEdit {
                    issuer: edit.issuer,
                    account: edit.account,
                    group,
                    favorite: edit.favorite,
                    ..TokenEdit::default()
                },
            )
            .await?;
        // The generator keeps its seed; only names changed.
        let code = lock(&self.generators)
            .get(&id)
            .map(|generator| views::code_view(generator, views::unix_now()))
            .ok_or_else(|| "the code will show after the next refresh".to_owned());
        let mut view = views::token_view(&stored, code);
        view.service = self.directory.brief_for(&stored);
        Ok(view)
    }

    /// Moves a token in front of `before` (or to the end), as a drag and drop does.
    pub async fn move_before(&self, id: &str, before: Option<&str>) -> Result<(), IpcError> {
        let id = parse_id(id)?;
        let before = before.map(parse_id).transpose()?;
        let vault = self.vault()?;
        let mut order = vault.list().await?;
        order.sort_by_key(|token| (token.sort_order, token.created_at));
        order.retain(|token| token.id != id);
        let position = before
            .and_then(|before| order.iter().position(|token| token.id == before))
            .unwrap_or(order.len());
        vault.move_to(id, position).await?;
        Ok(())
    }

    /// Every group name, for the group picker and filter.
    pub async fn groups(&self) -> Result<Vec<String>, IpcError> {
        Ok(self.vault()?.groups().await?)
    }

    pub async fn delete(&self, id: &str) -> Result<DeletedToken, IpcError> {
        let id = parse_id(id)?;
        let handle = self.vault()?.delete(id).await?;
        lock(&self.generators).remove(&id);
        Ok(DeletedToken {
            id: id.to_string(),
            deleted_at_ms: views::millis(handle.deleted_at),
        })
    }

    pub async fn undo_delete(&self, id: &str, deleted_at_ms: f64) -> Result<(), IpcError> {
        let id = parse_id(id)?;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        // millis from our own DeletedToken
        let deleted_at: SystemTime =
            UNIX_EPOCH + Duration::from_millis(deleted_at_ms.max(0.0) as u64);
        self.vault()?
            .undo_delete(UndoHandle { id, deleted_at })
            .await?;
        Ok(())
    }
}

/// The full token: stored metadata plus its decrypted secret.
fn with_secret(stored: &kaito_vault::StoredToken, secret: kaito_core::Secret) -> Token {
    Token {
        issuer: stored.issuer.clone(),
        account: stored.account.clone(),
        kind: stored.kind,
        algorithm: stored.algorithm,
        digits: stored.digits,
        secret,
        group: stored.group.clone(),
    }
}

/// A previewed import: the tokens read and the entries that could not be.
struct PendingImport {
    tokens: Vec<Token>,
    skipped: Vec<EntrySkip>,
}

fn pending_gone() -> IpcError {
    AppError::PendingGone.into()
}

/// Keychain profile: "default" for the standard data directory, otherwise one per
/// directory, so a test's or portable install's vault never reuses another's key.
pub fn keychain_profile(data_dir: &Path) -> String {
    if std::env::var_os("KAITO_DATA_DIR").is_none() {
        return "default".to_owned();
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325; // FNV-1a: stable across runs and builds
    for byte in data_dir.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("dir-{hash:016x}")
}
