//! Recovery from the server's shell (`kaito-server admin enable | set-role |
//! reset-password`): what an operator does when no owner can, such as the only
//! owner locked out. The member is named by email; each action joins the team's
//! audit chain with no actor (the operator), like `admin create`.

use kaito_api::{AuditKind, Role};

use super::normalise_email;
use super::users::{enable_in, end_sessions, set_role_in};
use crate::audited::Audited;
use crate::error::ServerError;
use crate::ids::{TeamId, UserId};
use crate::password_work::NewPasswordHash;
use crate::store::Store;

/// What the operator does to a member.
#[derive(Debug)]
pub enum Recovery {
    /// Lets a disabled member sign in again.
    Enable,
    /// Gives the member this role (the last active owner cannot be demoted).
    SetRole(Role),
    /// Sets a new password (hashed already, so outside the write lock) and ends
    /// every session of the member.
    ResetPassword(NewPasswordHash),
}

/// Does `action` to the member with `email`; answers their team and user id.
pub async fn recover(
    store: &Store,
    email: &str,
    action: Recovery,
    now_ms: i64,
) -> Result<(TeamId, UserId), ServerError> {
    let email = normalise_email(email)?;
    let mut tx = store.write_tx().await?;
    let (team_id, user_id): (String, String) =
        sqlx::query_as("SELECT team_id, id FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ServerError::NotFound(format!("No account has the email {email}.")))?;
    let (team_id, user_id) = (TeamId::from_stored(team_id), UserId::from_stored(user_id));
    let audited = Audited::new(tx, &team_id, None, now_ms);
    match action {
        Recovery::Enable => enable_in(audited, &user_id).await?,
        Recovery::SetRole(role) => set_role_in(store, audited, &user_id, role).await?,
        Recovery::ResetPassword(password) => {
            reset_password_in(audited, (&user_id, &email), &password).await?;
        }
    }
    Ok((team_id, user_id))
}

async fn reset_password_in(
    mut tx: Audited<'_>,
    (user_id, email): (&UserId, &str),
    password: &NewPasswordHash,
) -> Result<(), ServerError> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password.as_str())
        .bind(user_id.as_str())
        .execute(&mut **tx)
        .await?;
    // Whoever knew the old password may be signed in with it, and a link an
    // admin issued earlier must not replace the operator's password.
    end_sessions(&mut tx, user_id).await?;
    super::passwords::revoke_open_links(&mut tx, user_id).await?;
    super::passwords::clear_failures(&mut tx, email).await?;
    tx.record(
        AuditKind::MemberPasswordReset,
        Some(user_id.as_str()),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await
}
