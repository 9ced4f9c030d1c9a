//! The admin screens: each a one-line call into [`crate::team_admin`] or the team
//! client, with the signed-in client as an argument (the server checks the role).

// Tauri hands commands their state and arguments by value.
#![allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]

use std::sync::Arc;

use kaito_api::{NewGroup, NewMember, NewSharedToken};
use kaito_team::TeamClient;
use tauri::ipc::{CommandArg, CommandItem, InvokeError};

use tauri::{AppHandle, Manager, Runtime};
use zeroize::Zeroize as _;

use crate::AppError;
use crate::IpcError;
use crate::team::TeamMode;
use crate::team_admin;
use crate::views::{MfaStatusView, TotpEnrolmentView, in_groups_of_four, qr_svg};

/// The signed-in team client, as a command argument: a command taking it fails
/// with `team.not_linked` before it runs when this device is signed out.
pub struct SignedIn(Arc<TeamClient>);

impl std::ops::Deref for SignedIn {
    type Target = TeamClient;

    fn deref(&self) -> &TeamClient {
        &self.0
    }
}

impl<'de, R: Runtime> CommandArg<'de, R> for SignedIn {
    fn from_command(command: CommandItem<'de, R>) -> Result<Self, InvokeError> {
        let team = command
            .message
            .webview_ref()
            .try_state::<Arc<TeamMode>>()
            .ok_or_else(|| InvokeError::from(IpcError::from(AppError::TeamNotRunning)))?;
        team.signed_in().map(Self).map_err(InvokeError::from)
    }
}

/// A URI to share, checked here first: the server would refuse it too, but less
/// helpfully. The caller wipes it after sending.
fn shared_token(uri: String) -> Result<NewSharedToken, IpcError> {
    let uri = zeroize::Zeroizing::new(uri);
    kaito_core::uri::parse(uri.trim())?;
    Ok(NewSharedToken {
        uri: uri.trim().to_owned(),
    })
}

#[tauri::command]
pub async fn team_admin_overview(team: SignedIn) -> Result<team_admin::TeamAdminView, IpcError> {
    team_admin::overview(&team).await
}

#[tauri::command]
pub async fn team_add_member(
    team: SignedIn,
    email: String,
    name: String,
    role: String,
    password: String,
) -> Result<(), IpcError> {
    let mut member = NewMember {
        email: email.trim().to_owned(),
        name: name.trim().to_owned(),
        role: team_admin::role(&role)?,
        password,
    };
    let added = team.add_member(&member).await;
    member.password.zeroize();
    added?;
    Ok(())
}

#[tauri::command]
pub async fn team_invite(
    team: SignedIn,
    email: String,
    role: String,
) -> Result<team_admin::OneTimeLink, IpcError> {
    team_admin::invite(&team, &email, team_admin::role(&role)?).await
}

#[tauri::command]
pub async fn team_disable_member(team: SignedIn, user_id: String) -> Result<(), IpcError> {
    Ok(team.disable_member(&user_id.parse()?).await?)
}

#[tauri::command]
pub async fn team_enable_member(team: SignedIn, user_id: String) -> Result<(), IpcError> {
    Ok(team.enable_member(&user_id.parse()?).await?)
}

#[tauri::command]
pub async fn team_set_member_role(
    team: SignedIn,
    user_id: String,
    role: String,
) -> Result<(), IpcError> {
    Ok(team
        .set_member_role(&user_id.parse()?, team_admin::role(&role)?)
        .await?)
}

#[tauri::command]
pub async fn team_password_link(
    team: SignedIn,
    user_id: String,
) -> Result<team_admin::OneTimeLink, IpcError> {
    team_admin::password_link(&team, &user_id.parse()?).await
}

/// The member's own password; the server ends their other sessions.
#[tauri::command]
pub async fn team_change_password(
    team: SignedIn,
    current: String,
    new: String,
) -> Result<(), IpcError> {
    let mut change = kaito_api::PasswordChange {
        current_password: current,
        new_password: new,
    };
    let changed = team.change_password(&change).await;
    change.current_password.zeroize();
    change.new_password.zeroize();
    Ok(changed?)
}

#[tauri::command]
pub async fn team_mfa_status(team: SignedIn) -> Result<MfaStatusView, IpcError> {
    let status = team.mfa_status().await?;
    Ok(MfaStatusView {
        totp: status.totp,
        recovery_codes_left: status.recovery_codes_left,
    })
}

#[tauri::command]
pub async fn team_begin_totp(team: SignedIn) -> Result<TotpEnrolmentView, IpcError> {
    let enrolment = team.begin_totp().await?;
    Ok(TotpEnrolmentView {
        secret: in_groups_of_four(&enrolment.secret),
        qr_svg: qr_svg(&enrolment.otpauth_uri, 200)?,
    })
}

/// Confirms the authenticator; answers the recovery codes, shown this once.
#[tauri::command]
pub async fn team_confirm_totp(
    team: SignedIn,
    code: String,
    password: String,
) -> Result<Vec<String>, IpcError> {
    let password = zeroize::Zeroizing::new(password);
    Ok(team.confirm_totp(&code, &password).await?.codes)
}

#[tauri::command]
pub async fn team_remove_mfa(team: SignedIn, password: String) -> Result<(), IpcError> {
    let mut removal = kaito_api::CurrentPassword {
        current_password: password,
    };
    let removed = team.remove_mfa(&removal).await;
    removal.current_password.zeroize();
    Ok(removed?)
}

/// New recovery codes with the password; the old ones stop working.
#[tauri::command]
pub async fn team_new_recovery_codes(
    team: SignedIn,
    password: String,
) -> Result<Vec<String>, IpcError> {
    let mut confirmation = kaito_api::CurrentPassword {
        current_password: password,
    };
    let replaced = team.new_recovery_codes(&confirmation).await;
    confirmation.current_password.zeroize();
    Ok(replaced?.codes)
}

/// Whether the team requires a second factor of everyone.
#[tauri::command]
pub async fn team_mfa_policy(team: SignedIn) -> Result<bool, IpcError> {
    Ok(team.mfa_policy().await?.required)
}

/// Owners: require (or stop requiring) a second factor of everyone.
#[tauri::command]
pub async fn team_set_mfa_policy(team: SignedIn, required: bool) -> Result<bool, IpcError> {
    Ok(team
        .set_mfa_policy(kaito_api::MfaPolicy { required })
        .await?
        .required)
}

#[tauri::command]
pub async fn team_reset_member_mfa(team: SignedIn, user_id: String) -> Result<(), IpcError> {
    Ok(team.reset_member_mfa(&user_id.parse()?).await?)
}

#[tauri::command]
pub async fn team_create_group(team: SignedIn, name: String) -> Result<(), IpcError> {
    team.create_group(&NewGroup {
        name: name.trim().to_owned(),
    })
    .await?;
    Ok(())
}

#[tauri::command]
pub async fn team_add_to_group(
    team: SignedIn,
    group_id: String,
    user_id: String,
) -> Result<(), IpcError> {
    Ok(team
        .add_to_group(&group_id.parse()?, &user_id.parse()?)
        .await?)
}

#[tauri::command]
pub async fn team_remove_from_group(
    team: SignedIn,
    group_id: String,
    user_id: String,
) -> Result<(), IpcError> {
    Ok(team
        .remove_from_group(&group_id.parse()?, &user_id.parse()?)
        .await?)
}

#[tauri::command]
pub async fn team_add_shared_token(team: SignedIn, uri: String) -> Result<String, IpcError> {
    let mut token = shared_token(uri)?;
    let added = team.add_shared_token(&token).await;
    token.uri.zeroize();
    Ok(added?)
}

#[tauri::command]
pub async fn team_rotate(team: SignedIn, token_id: String, uri: String) -> Result<(), IpcError> {
    let token_id = token_id.parse()?;
    let mut token = shared_token(uri)?;
    let rotated = team.rotate(&token_id, &token).await;
    token.uri.zeroize();
    Ok(rotated?)
}

#[tauri::command]
pub async fn team_grant(
    team: SignedIn,
    token_id: String,
    grant: team_admin::GrantForm,
) -> Result<(), IpcError> {
    team_admin::grant(&team, &token_id.parse()?, grant).await
}

#[tauri::command]
pub async fn team_revoke_grant(team: SignedIn, grant_id: String) -> Result<(), IpcError> {
    Ok(team.revoke_grant(&grant_id.parse()?).await?)
}

#[tauri::command]
pub async fn team_audit(
    team: SignedIn,
    filter: team_admin::AuditFilterForm,
) -> Result<team_admin::AuditPageView, IpcError> {
    team_admin::audit(&team, filter).await
}

#[tauri::command]
pub async fn team_export_audit<R: Runtime>(
    app: AppHandle<R>,
    team: SignedIn,
    filter: team_admin::AuditFilterForm,
    format: String,
) -> Result<team_admin::ExportedFile, IpcError> {
    use tauri::Manager as _;
    let dir = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(|error| IpcError::from(AppError::ExportFailed(error.to_string())))?;
    team_admin::export(&team, filter, &format, dir).await
}

#[tauri::command]
pub async fn team_sinks(team: SignedIn) -> Result<Vec<team_admin::SinkRow>, IpcError> {
    team_admin::sinks(&team).await
}

#[tauri::command]
pub async fn team_add_sink(team: SignedIn, sink: team_admin::SinkForm) -> Result<(), IpcError> {
    team_admin::add_sink(&team, sink).await
}

#[tauri::command]
pub async fn team_remove_sink(team: SignedIn, sink_id: String) -> Result<(), IpcError> {
    Ok(team.remove_sink(&sink_id.parse()?).await?)
}

#[tauri::command]
pub async fn team_resume_sink(team: SignedIn, sink_id: String) -> Result<(), IpcError> {
    Ok(team.resume_sink(&sink_id.parse()?).await?)
}

#[tauri::command]
pub async fn team_api_tokens(
    team: SignedIn,
) -> Result<Vec<crate::team_api_tokens::ApiTokenRow>, IpcError> {
    crate::team_api_tokens::list(&team).await
}

#[tauri::command]
pub async fn team_create_api_token(
    team: SignedIn,
    name: String,
    expires_at_ms: Option<i64>,
) -> Result<crate::team_api_tokens::CreatedApiTokenRow, IpcError> {
    crate::team_api_tokens::create(&team, &name, expires_at_ms).await
}

#[tauri::command]
pub async fn team_revoke_api_token(team: SignedIn, token_id: String) -> Result<(), IpcError> {
    Ok(team.revoke_api_token(&token_id.parse()?).await?)
}
