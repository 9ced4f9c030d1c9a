//! Team mode in the app: kaito-team's [`Session`] adapted to the window's views,
//! the clipboard, the inbox event and desktop notifications.

use std::sync::Arc;
use std::time::Duration;

use kaito_api::{GrantMode, SmsMessageView};
use kaito_team::session::{CodeNow, InboxEvents, Problem, SharedCode, Status};
use kaito_team::{Session, Surface, TeamError};
use kaito_vault::{KeyNamespace, KeychainKeyStore, SealedSlot, SecretSlot, Vault};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};
use tauri_plugin_notification::NotificationExt;

use crate::IpcError;
use crate::state::{AppState, CopiedCode};
use crate::views::CodeView;

impl From<TeamError> for IpcError {
    fn from(error: TeamError) -> Self {
        Self::new(&error.code(), error.to_string())
    }
}

impl From<kaito_api::ids::MalformedId> for IpcError {
    fn from(error: kaito_api::ids::MalformedId) -> Self {
        TeamError::from(error).into()
    }
}

impl From<Problem> for IpcError {
    fn from(problem: Problem) -> Self {
        Self {
            code: problem.code,
            message: problem.message,
        }
    }
}

impl From<CodeNow> for CodeView {
    fn from(code: CodeNow) -> Self {
        Self {
            current: code.current,
            next: code.next,
            remaining_secs: code.remaining_secs,
            period: code.period,
        }
    }
}

/// The team sign-in as Settings shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TeamStatusView {
    pub linked: bool,
    pub server_url: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub team_name: Option<String>,
    /// Views and copies not yet sent to the team's log.
    pub pending_events: u32,
    /// Unix milliseconds of the last successful send.
    pub last_synced_at_ms: Option<f64>,
}

/// A shared token as the list shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TeamTokenView {
    pub token_id: String,
    pub issuer: String,
    pub account: String,
    /// "code" (codes from the server only), "seed", or "none" (an admin who manages
    /// it without a grant).
    pub access: String,
    /// Its seed is kept (sealed) on this device: codes are computed here, offline
    /// too.
    pub on_device: bool,
    pub code: Option<CodeView>,
    pub code_error: Option<IpcError>,
}

/// The team part of the token list.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TeamTokensView {
    pub linked: bool,
    pub team_name: Option<String>,
    pub tokens: Vec<TeamTokenView>,
    /// The list could not be refreshed: it is the one last fetched, and this says why.
    pub stale: Option<IpcError>,
}

/// Tells the window the inbox changed (a message, or the connection's state).
pub const INBOX_EVENT: &str = "team-inbox";

/// A text message of the shared inbox as the window shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SmsView {
    #[ts(type = "number")]
    pub seq: i64,
    pub label: String,
    pub phone_number: String,
    pub from: String,
    pub body: String,
    /// The one-time code the server found in the body, digits only.
    pub code: Option<String>,
    #[ts(type = "number")]
    pub received_at_ms: i64,
}

/// The shared inbox: newest message first.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TeamInboxView {
    pub linked: bool,
    /// The live stream is open: new messages appear as they arrive.
    pub live: bool,
    /// Why the stream is not open, while it is retried.
    pub problem: Option<IpcError>,
    pub messages: Vec<SmsView>,
}

impl From<Status> for TeamStatusView {
    fn from(status: Status) -> Self {
        let link = status.link.as_ref();
        Self {
            linked: link.is_some(),
            server_url: link.map(|link| link.server_url.clone()),
            email: link.map(|link| link.email.clone()),
            name: link.map(|link| link.name.clone()),
            role: link.map(|link| link.role.as_str().to_owned()),
            team_name: link.map(|link| link.team_name.clone()),
            pending_events: u32::try_from(status.pending_events).unwrap_or(u32::MAX),
            #[allow(clippy::cast_precision_loss)]
            last_synced_at_ms: status
                .last_synced_at
                .map(|at| kaito_vault::clock::unix_millis(at) as f64),
        }
    }
}

impl From<SharedCode> for TeamTokenView {
    fn from(shared: SharedCode) -> Self {
        Self {
            access: match shared.token.access {
                Some(GrantMode::Code) => "code",
                Some(GrantMode::Seed) => "seed",
                None => "none",
            }
            .to_owned(),
            token_id: shared.token.token_id,
            issuer: shared.token.issuer,
            account: shared.token.account,
            on_device: shared.on_device,
            code: shared.code.map(CodeView::from),
            code_error: shared.code_error.map(IpcError::from),
        }
    }
}

impl From<SmsMessageView> for SmsView {
    fn from(message: SmsMessageView) -> Self {
        Self {
            seq: message.seq,
            label: message.label,
            phone_number: message.phone_number,
            from: message.from,
            body: message.body,
            code: message.code,
            received_at_ms: message.received_at,
        }
    }
}

/// The app's team state, managed by Tauri.
#[derive(Debug)]
pub struct TeamMode {
    session: Arc<Session>,
}

impl TeamMode {
    /// The profile's keychain slot (sealed with the vault key, so the app lock
    /// covers the team sign-in), and the sign-in kept from an earlier run.
    pub async fn open(vault: Option<&Arc<Vault>>, keychain_profile: &str) -> Self {
        let slot: Option<Arc<dyn SecretSlot>> = vault.and_then(|vault| {
            let keys = KeychainKeyStore::native(KeyNamespace::current(keychain_profile)).ok()?;
            let keychain: Arc<dyn SecretSlot> = Arc::new(keys.secret("team"));
            Some(Arc::new(SealedSlot::new(keychain, vault.clone())) as Arc<dyn SecretSlot>)
        });
        Self {
            session: Arc::new(Session::open(vault.map(|vault| &**vault), slot).await),
        }
    }

    /// The device's team session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The team client, or the error a signed-out device gets.
    pub fn signed_in(&self) -> Result<Arc<kaito_team::TeamClient>, IpcError> {
        Ok(self.session.signed_in()?)
    }

    pub async fn tokens(
        &self,
        vault: &Vault,
        surface: Surface,
    ) -> Result<TeamTokensView, IpcError> {
        Ok(match self.session.tokens(vault, surface).await? {
            None => TeamTokensView {
                linked: false,
                team_name: None,
                tokens: Vec::new(),
                stale: None,
            },
            Some(list) => TeamTokensView {
                linked: true,
                team_name: Some(list.team_name),
                tokens: list.tokens.into_iter().map(TeamTokenView::from).collect(),
                stale: list.stale.map(IpcError::from),
            },
        })
    }

    /// Copies a shared token's current code (cleared like any copied code) and
    /// records the copy for the team log.
    pub async fn copy_code<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        state: &AppState,
        token_id: &str,
        surface: Surface,
    ) -> Result<CopiedCode, IpcError> {
        let vault = state.vault()?;
        let code = self
            .session
            .copy_code(vault, token_id, surface, |code: &CodeNow| {
                crate::clipboard::place(app, &copied(code), state.clipboard_clear_after())
            })
            .await?;
        Ok(copied(&code))
    }

    /// The inbox as the window shows it.
    pub fn inbox(&self) -> TeamInboxView {
        let inbox = self.session.inbox();
        TeamInboxView {
            linked: inbox.linked,
            live: inbox.live,
            problem: inbox.problem.map(IpcError::from),
            messages: inbox.messages.into_iter().map(SmsView::from).collect(),
        }
    }

    /// Copies the code of inbox message `seq` (cleared like any copied code) and
    /// records the copy for the team log.
    pub async fn copy_sms_code<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        state: &AppState,
        seq: i64,
    ) -> Result<String, IpcError> {
        let vault = state.vault()?;
        self.session
            .copy_sms_code(vault, seq, |code: &str| {
                let copied = CopiedCode {
                    code: code.to_owned(),
                    valid_for: None,
                };
                crate::clipboard::place(app, &copied, state.clipboard_clear_after())
            })
            .await
    }

    /// The background tasks: the outbox sync, and the live inbox telling the window.
    pub fn spawn_tasks<R: Runtime>(&self, app: &AppHandle<R>, vault: Option<Arc<Vault>>) {
        if let Some(vault) = vault {
            tauri::async_runtime::spawn(self.session.clone().sync_forever(vault));
        }
        let events: Arc<dyn InboxEvents> = Arc::new(WindowInbox { app: app.clone() });
        tauri::async_runtime::spawn(self.session.clone().inbox_forever(events));
    }
}

fn copied(code: &CodeNow) -> CopiedCode {
    CopiedCode {
        code: code.current.clone(),
        valid_for: code
            .remaining_secs
            .map(|secs| Duration::from_secs(u64::from(secs))),
    }
}

/// The inbox's changes as the window and the desktop see them.
struct WindowInbox<R: Runtime> {
    app: AppHandle<R>,
}

impl<R: Runtime> InboxEvents for WindowInbox<R> {
    fn changed(&self) {
        let _ = self.app.emit(INBOX_EVENT, ());
    }

    fn arrived(&self, message: &SmsMessageView) {
        notify_message(&self.app, message);
    }
}

/// Says a text arrived, and for which inbox; the code stays in the window.
fn notify_message<R: Runtime>(app: &AppHandle<R>, message: &SmsMessageView) {
    let inbox = if message.label.is_empty() {
        message.phone_number.as_str()
    } else {
        message.label.as_str()
    };
    let body = if message.code.is_some() {
        format!("A code from {} — open the inbox to copy it.", message.from)
    } else {
        format!("A message from {}.", message.from)
    };
    if let Err(error) = app
        .notification()
        .builder()
        .title(format!("Text for {inbox}"))
        .body(body)
        .show()
    {
        tracing::debug!(%error, "no notification for the text message");
    }
}
