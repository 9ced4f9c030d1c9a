//! Single sign-on: the sign-in through the team's identity provider in the system
//! browser, and the owner's settings of that provider on the Admin page.

// Tauri hands commands their state and arguments by value.
#![allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]

use std::sync::Arc;

use kaito_api::{SsoSettings, SsoSettingsUpdate};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime, State};

use super::admin::SignedIn;
use crate::IpcError;
use crate::state::AppState;
use crate::team::{TeamMode, TeamStatusView};

/// Whether a team signs in through its identity provider.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SsoAvailabilityView {
    pub available: bool,
    /// Passwords are off for members and admins (owners keep theirs).
    pub sso_only: bool,
}

impl From<kaito_api::SsoAvailability> for SsoAvailabilityView {
    fn from(answer: kaito_api::SsoAvailability) -> Self {
        Self {
            available: answer.available,
            sso_only: answer.sso_only,
        }
    }
}

/// Whether the team of `email` on `server_url` signs in through an identity
/// provider: the sign-in form offers "Sign in with SSO" when it does.
#[tauri::command]
pub async fn team_sso_availability(
    server_url: String,
    email: String,
) -> Result<SsoAvailabilityView, IpcError> {
    Ok(kaito_team::sso_availability(&server_url, &email)
        .await?
        .into())
}

/// Signs in through the team's identity provider in the system browser; ends when
/// the browser comes back, the sign-in expires, or `team_cancel_sso` is called.
#[tauri::command]
pub async fn team_sign_in_sso<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
    server_url: String,
    email: String,
) -> Result<TeamStatusView, IpcError> {
    use tauri_plugin_opener::OpenerExt as _;
    let open_browser = |url: &str| {
        app.opener()
            .open_url(url, None::<&str>)
            .map_err(|error| error.to_string())
    };
    Ok(team
        .session()
        .sign_in_with_sso(state.vault()?, (&server_url, &email), &open_browser)
        .await?
        .into())
}

/// Stops waiting for the browser of an SSO sign-in.
#[tauri::command]
pub fn team_cancel_sso(team: State<'_, Arc<TeamMode>>) {
    team.session().cancel_sso();
}

/// The team's identity provider as the Admin page shows it (never its secret).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SsoSettingsView {
    pub configured: bool,
    pub issuer: String,
    pub client_id: String,
    pub email_domains: Vec<String>,
    pub groups_claim: Option<String>,
    pub extra_scopes: Vec<String>,
    pub sso_only: bool,
    /// How many group rules the server keeps (they are set over the API).
    pub group_rules: u32,
}

impl From<SsoSettings> for SsoSettingsView {
    fn from(settings: SsoSettings) -> Self {
        Self {
            configured: settings.configured,
            issuer: settings.issuer,
            client_id: settings.client_id,
            email_domains: settings.email_domains,
            groups_claim: settings.groups_claim,
            extra_scopes: settings.extra_scopes,
            sso_only: settings.sso_only,
            group_rules: u32::try_from(settings.group_rules.len()).unwrap_or(u32::MAX),
        }
    }
}

/// The Admin page's form: a secret left empty keeps the stored one; the group
/// rules already set stay as they are.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SsoForm {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Comma- or space-separated.
    pub email_domains: String,
    pub sso_only: bool,
}

#[tauri::command]
pub async fn team_sso_settings(team: SignedIn) -> Result<SsoSettingsView, IpcError> {
    Ok(team.sso_settings().await?.into())
}

#[tauri::command]
pub async fn team_set_sso_settings(
    team: SignedIn,
    form: SsoForm,
) -> Result<SsoSettingsView, IpcError> {
    let kept = team.sso_settings().await?;
    let secret = zeroize::Zeroizing::new(form.client_secret);
    let update = SsoSettingsUpdate {
        issuer: form.issuer.trim().to_owned(),
        client_id: form.client_id.trim().to_owned(),
        client_secret: (!secret.trim().is_empty()).then(|| secret.trim().to_owned()),
        email_domains: form
            .email_domains
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|domain| !domain.is_empty())
            .map(str::to_owned)
            .collect(),
        groups_claim: kept.groups_claim,
        group_rules: kept.group_rules,
        extra_scopes: kept.extra_scopes,
        sso_only: form.sso_only,
    };
    Ok(team.set_sso_settings(&update).await?.into())
}

#[tauri::command]
pub async fn team_remove_sso(team: SignedIn) -> Result<(), IpcError> {
    Ok(team.remove_sso().await?)
}
