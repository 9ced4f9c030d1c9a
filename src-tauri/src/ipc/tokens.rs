//! The token list: listing with codes, copying, editing, moving, deleting (with undo), revealing a seed.

// Tauri hands commands their state and arguments by value.
#![allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]

use kaito_vault::StoredToken;
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind};

use crate::IpcError;
use crate::state::AppState;
use crate::views::{DeletedToken, RevealedSecret, TokenEditForm, TokenView, unix_now};

#[tauri::command]
pub async fn list_tokens<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Vec<TokenView>, IpcError> {
    let listed = state.list(unix_now()).await;
    crate::tray::sync(&app, listed.as_deref()).await;
    listed
}

#[tauri::command]
pub async fn copy_code<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
) -> Result<String, IpcError> {
    let copied = crate::clipboard::copy_code(&app, &state, &id).await?;
    state.touch();
    Ok(copied.code)
}

#[tauri::command]
pub async fn delete_token(
    state: State<'_, AppState>,
    id: String,
) -> Result<DeletedToken, IpcError> {
    state.delete(&id).await
}

#[tauri::command]
pub async fn undo_delete(
    state: State<'_, AppState>,
    id: String,
    deleted_at_ms: f64,
) -> Result<(), IpcError> {
    state.undo_delete(&id, deleted_at_ms).await
}

#[tauri::command]
pub async fn edit_token(
    state: State<'_, AppState>,
    id: String,
    edit: TokenEditForm,
) -> Result<TokenView, IpcError> {
    state.edit(&id, edit).await
}

#[tauri::command]
pub async fn move_token(
    state: State<'_, AppState>,
    id: String,
    before: Option<String>,
) -> Result<(), IpcError> {
    state.move_before(&id, before.as_deref()).await
}

#[tauri::command]
pub async fn list_groups(state: State<'_, AppState>) -> Result<Vec<String>, IpcError> {
    state.groups().await
}

#[tauri::command]
pub async fn reveal_secret<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
    passphrase: Option<String>,
) -> Result<RevealedSecret, IpcError> {
    state
        .reveal(&id, passphrase.as_deref(), |token| {
            confirm_reveal(&app, token)
        })
        .await
}

/// The title of the native question asked before a secret is shown without a
/// passphrase (tests find the dialog by it).
pub const REVEAL_DIALOG_TITLE: &str = "Kaito: show a secret?";

/// Asks, in a native dialog the webview cannot reach, whether to show a token's
/// secret. Closing the dialog is a no.
fn confirm_reveal<R: Runtime>(
    app: &AppHandle<R>,
    token: &StoredToken,
) -> impl Future<Output = bool> + use<R> {
    let name = if token.account.is_empty() {
        token.issuer.clone()
    } else {
        format!("{} ({})", token.issuer, token.account)
    };
    let (answer, answered) = tokio::sync::oneshot::channel();
    let mut dialog = app
        .dialog()
        .message(format!(
            "Show the secret of {name}? Anyone who sees it can make this token's codes on a device of their own."
        ))
        .title(REVEAL_DIALOG_TITLE)
        .kind(MessageDialogKind::Warning)
        .buttons(MessageDialogButtons::OkCancelCustom(
            "Show secret".to_owned(),
            "Cancel".to_owned(),
        ));
    if let Some(window) = app.get_webview_window("main") {
        dialog = dialog.parent(&window);
    }
    dialog.show(move |yes| {
        let _ = answer.send(yes);
    });
    async move { answered.await.unwrap_or(false) }
}
