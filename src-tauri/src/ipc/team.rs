//! Team mode for every member: sign-in, the shared tokens and their codes, the SMS inbox, kept seeds.

// Tauri hands commands their state and arguments by value.
#![allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]

use std::sync::Arc;

use kaito_api::LoginRequest;
use kaito_team::Surface;

use tauri::{AppHandle, Runtime, State};
use zeroize::Zeroize as _;

use crate::IpcError;
use crate::state::AppState;
use crate::team::{TeamInboxView, TeamMode, TeamStatusView, TeamTokensView};
use crate::views::{TotpEnrolmentView, in_groups_of_four, qr_svg};

#[tauri::command]
pub async fn team_status(
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
) -> Result<TeamStatusView, IpcError> {
    Ok(team.session().status(state.vault()?).await?.into())
}

#[tauri::command]
pub async fn team_sign_in(
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
    server_url: String,
    email: String,
    password: String,
) -> Result<TeamStatusView, IpcError> {
    let mut login = LoginRequest { email, password };
    let signed_in = match state.vault() {
        Ok(vault) => team
            .session()
            .sign_in(vault, &server_url, &login)
            .await
            .map_err(IpcError::from),
        Err(error) => Err(error),
    };
    login.password.zeroize();
    Ok(signed_in?.into())
}

/// The second step of a sign-in whose password step asked for the account's
/// second factor (`team.second_factor_required`).
#[tauri::command]
pub async fn team_sign_in_code(
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
    code: String,
) -> Result<TeamStatusView, IpcError> {
    let code = zeroize::Zeroizing::new(code);
    let vault = state.vault()?;
    Ok(team
        .session()
        .answer_second_factor(vault, &code)
        .await?
        .into())
}

/// The authenticator to set up for a sign-in whose team requires one
/// (`team.second_factor_setup_required`): its secret and QR code.
#[tauri::command]
pub async fn team_begin_required_setup(
    team: State<'_, Arc<TeamMode>>,
) -> Result<TotpEnrolmentView, IpcError> {
    let enrolment = team.session().begin_required_setup().await?;
    Ok(TotpEnrolmentView {
        secret: in_groups_of_four(&enrolment.secret),
        qr_svg: qr_svg(&enrolment.otpauth_uri, 200)?,
    })
}

/// A sign-in finished by setting up an authenticator: the recovery codes are
/// shown this once.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RequiredSetupView {
    pub status: TeamStatusView,
    pub recovery_codes: Vec<String>,
}

/// Finishes that sign-in with the new authenticator's first code.
#[tauri::command]
pub async fn team_finish_required_setup(
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
    code: String,
) -> Result<RequiredSetupView, IpcError> {
    let code = zeroize::Zeroizing::new(code);
    let (status, codes) = team
        .session()
        .finish_required_setup(state.vault()?, &code)
        .await?;
    Ok(RequiredSetupView {
        status: status.into(),
        recovery_codes: codes.codes,
    })
}

#[tauri::command]
pub async fn team_join(
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
    link: String,
    name: String,
    password: String,
) -> Result<TeamStatusView, IpcError> {
    let (link, password) = (
        zeroize::Zeroizing::new(link),
        zeroize::Zeroizing::new(password),
    );
    let joined = team
        .session()
        .join(state.vault()?, &link, &name, &password)
        .await?;
    Ok(joined.into())
}

/// Chooses a new password with an admin's `kaito://set-password` link and signs
/// this device in.
#[tauri::command]
pub async fn team_set_password(
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
    link: String,
    password: String,
) -> Result<TeamStatusView, IpcError> {
    let (link, password) = (
        zeroize::Zeroizing::new(link),
        zeroize::Zeroizing::new(password),
    );
    let signed_in = team
        .session()
        .set_password_with_link(state.vault()?, &link, &password)
        .await?;
    Ok(signed_in.into())
}

#[tauri::command]
pub async fn team_sign_out(
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
    discard_unsent: Option<bool>,
) -> Result<TeamStatusView, IpcError> {
    let discard = discard_unsent.unwrap_or(false);
    Ok(team
        .session()
        .sign_out(state.vault()?, discard)
        .await?
        .into())
}

#[tauri::command]
pub async fn team_tokens<R: Runtime>(
    app: AppHandle<R>,
    window: tauri::WebviewWindow<R>,
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
) -> Result<TeamTokensView, IpcError> {
    let view = team.tokens(state.vault()?, surface(&window)).await?;
    crate::tray::sync_team(&app, &view);
    Ok(view)
}

#[tauri::command]
pub async fn copy_team_code<R: Runtime>(
    app: AppHandle<R>,
    window: tauri::WebviewWindow<R>,
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
    token_id: String,
) -> Result<String, IpcError> {
    state.touch();
    team.copy_code(&app, &state, &token_id, surface(&window))
        .await
        .map(|copied| copied.code)
}

#[tauri::command]
pub async fn team_inbox(team: State<'_, Arc<TeamMode>>) -> Result<TeamInboxView, IpcError> {
    Ok(team.inbox())
}

#[tauri::command]
pub async fn copy_sms_code<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
    seq: i64,
) -> Result<String, IpcError> {
    state.touch();
    team.copy_sms_code(&app, &state, seq).await
}

/// Where a team code was shown or copied, for the team's log: the window that asked.
fn surface<R: Runtime>(window: &tauri::WebviewWindow<R>) -> Surface {
    if window.label() == crate::palette::LABEL {
        Surface::Palette
    } else {
        Surface::Window
    }
}

#[tauri::command]
pub async fn team_keep_seed(
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
    token_id: String,
) -> Result<(), IpcError> {
    Ok(team.session().keep_seed(state.vault()?, &token_id).await?)
}

#[tauri::command]
pub async fn team_forget_seed(
    state: State<'_, AppState>,
    token_id: String,
) -> Result<(), IpcError> {
    Ok(state.vault()?.forget_team_seed(&token_id).await?)
}
