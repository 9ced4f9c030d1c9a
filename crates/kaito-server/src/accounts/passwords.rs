//! Changing passwords: a member changes their own (the current one required), and
//! an admin resets a member's with a one-time set-password link, so no admin ever
//! knows the password a member signs in with.

use crate::ids::NewId as _;
use std::time::Duration;

use kaito_api::{AuditKind, CreatedPasswordLink, PasswordChange, TokenPair};
use serde_json::json;
use sqlx::Row as _;

use super::sessions::{counted_check, millis};
use super::users::end_sessions;
use super::{Caller, may_act_on, role_of};
use crate::audited::Audited;
use crate::error::ServerError;
use crate::ids::{TeamId, UserId};
use crate::password_work::{NewPasswordHash, PasswordWork, check_password_strength};
use crate::secrets::{decoy_hash, new_token, token_hash};
use crate::store::Store;

/// The condition on a usable link: `$1` the time, `$2` the token's hash. A macro,
/// so the queries stay literal SQL.
macro_rules! live_link {
    () => {
        "WHERE token_hash = $2 AND used_at IS NULL AND revoked_at IS NULL
           AND expires_at > $1
           AND user_id IN (SELECT id FROM users WHERE disabled_at IS NULL)
           AND created_by IN (SELECT id FROM users WHERE disabled_at IS NULL)"
    };
}

/// How long a set-password link works: a day, since it is a credential that sits
/// in a chat or a mailbox until it is used.
pub const PASSWORD_LINK_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Set-password tokens start with this, so they are told apart from other tokens.
pub const PASSWORD_LINK_PREFIX: &str = "kpw_";

/// The caller changes their own password. The current password is checked under
/// the account's sign-in failure limit (a stolen access token must not become a
/// way to guess it); every other session of the caller ends.
/// Checks the signed-in caller's password again, before a change that wants it
/// (a new password, turning the second factor off): one attempt against the
/// account's sign-in failure limit, a wrong one audited. Answers the account's
/// email and the stored hash that matched.
pub(super) async fn check_current_password(
    store: &Store,
    passwords: &PasswordWork,
    caller: &Caller,
    typed: &str,
    now_ms: i64,
) -> Result<(String, String), ServerError> {
    let row = sqlx::query("SELECT email, password_hash FROM users WHERE id = $1")
        .bind(caller.user_id.as_str())
        .fetch_one(store.pool())
        .await?;
    let email: String = row.try_get("email")?;
    let stored: String = row.try_get("password_hash")?;
    let checked = counted_check(store, passwords, &email, (typed, stored.clone()), now_ms).await?;
    if !checked.matches {
        let mut tx = store.audited(caller, now_ms).await?;
        tx.record(
            AuditKind::LoginFailed,
            Some(caller.user_id.as_str()),
            json!({ "reason": "current_password" }),
        )
        .await?;
        tx.commit().await?;
        return Err(ServerError::WrongPassword);
    }
    Ok((email, stored))
}

pub async fn change_password(
    store: &Store,
    passwords: &PasswordWork,
    caller: &Caller,
    change: &PasswordChange,
    now_ms: i64,
) -> Result<(), ServerError> {
    // A weak new password costs no attempt and no hash.
    check_password_strength(&change.new_password)?;
    let (email, stored) =
        check_current_password(store, passwords, caller, &change.current_password, now_ms).await?;
    let fresh = passwords.hash_new(&change.new_password).await?;
    let mut tx = store.audited(caller, now_ms).await?;
    // Only over the hash just checked: a reset meanwhile wins.
    let updated =
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
            .bind(fresh.as_str())
            .bind(caller.user_id.as_str())
            .bind(stored.as_str())
            .execute(&mut **tx)
            .await?;
    if updated.rows_affected() == 0 {
        return Err(ServerError::Conflict(
            "Your password was changed meanwhile. Sign in again and retry.".to_owned(),
        ));
    }
    // Whoever else is signed in as the caller (a stolen password's holder) is out.
    let ended = sqlx::query(
        "UPDATE sessions SET revoked_at = $1
         WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL",
    )
    .bind(now_ms)
    .bind(caller.user_id.as_str())
    .bind(caller.session_id.as_str())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    clear_failures(&mut tx, &email).await?;
    tx.record(
        AuditKind::MemberPasswordChanged,
        Some(caller.user_id.as_str()),
        json!({ "other_sessions_ended": ended }),
    )
    .await?;
    tx.commit().await
}

/// An admin resets a member's password: the old one stops working at once, every
/// session of theirs ends, and a one-time link lets the member choose a new one.
/// The rank rule applies (an admin cannot reset an owner's or another admin's).
/// `public_url` (the server's, as members reach it) makes the `kaito://` link.
pub async fn issue_password_link(
    store: &Store,
    admin: &Caller,
    user_id: &UserId,
    public_url: Option<&str>,
    now_ms: i64,
) -> Result<CreatedPasswordLink, ServerError> {
    if *user_id == admin.user_id {
        return Err(ServerError::BadRequest(
            "Change your own password in Settings (POST /v1/me/password).".to_owned(),
        ));
    }
    let token = format!("{PASSWORD_LINK_PREFIX}{}", new_token()?.as_str());
    let expires_at = now_ms + millis(PASSWORD_LINK_LIFETIME);
    let link_id = crate::ids::PasswordLinkId::generate()?;
    let mut tx = store.audited(admin, now_ms).await?;
    let role: String = sqlx::query_scalar(
        "SELECT role FROM users WHERE id = $1 AND team_id = $2 AND disabled_at IS NULL",
    )
    .bind(user_id.as_str())
    .bind(admin.team_id.as_str())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| ServerError::NotFound(format!("No active member {user_id} in your team.")))?;
    may_act_on(admin, role_of(&role)?)?;
    revoke_open_links(&mut tx, user_id).await?;
    sqlx::query(
        "INSERT INTO password_links (id, team_id, user_id, token_hash, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(link_id.as_str())
    .bind(admin.team_id.as_str())
    .bind(user_id.as_str())
    .bind(token_hash(&token))
    .bind(admin.user_id.as_str())
    .bind(now_ms)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    // The decoy matches no password: the old one, perhaps leaked, is dead now.
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(decoy_hash())
        .bind(user_id.as_str())
        .execute(&mut **tx)
        .await?;
    end_sessions(&mut tx, user_id).await?;
    tx.record(
        AuditKind::PasswordLinkCreated,
        Some(user_id.as_str()),
        json!({ "expires_at": expires_at }),
    )
    .await?;
    tx.commit().await?;
    let link = crate::secrets::app_link(public_url, ("set-password", "token"), &token);
    Ok(CreatedPasswordLink {
        token,
        link,
        expires_at,
    })
}

/// The member chooses a new password with a set-password link, and is signed in.
/// The link works once, within its day, while both the member and the admin who
/// issued it are active.
pub async fn set_password_with_link(
    store: &Store,
    passwords: &PasswordWork,
    token: &str,
    password: &str,
    now_ms: i64,
) -> Result<TokenPair, ServerError> {
    check_password_strength(password)?;
    let hash = token_hash(token.trim());
    // Looked up before hashing, so a made-up token costs no Argon2 work.
    let live = sqlx::query(concat!(
        "SELECT 1 AS found FROM password_links ",
        live_link!()
    ))
    .bind(now_ms)
    .bind(hash.as_str())
    .fetch_optional(store.pool())
    .await?
    .is_some();
    if !live {
        return Err(ServerError::InvalidPasswordLink);
    }
    let fresh: NewPasswordHash = passwords.hash_new(password).await?;
    let mut tx = store.write_tx().await?;
    // Claimed in one statement, so the link cannot be used twice at once.
    let claimed = sqlx::query(concat!(
        "UPDATE password_links SET used_at = $1 ",
        live_link!(),
        " RETURNING id, team_id, user_id"
    ))
    .bind(now_ms)
    .bind(hash.as_str())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ServerError::InvalidPasswordLink)?;
    let link_id: String = claimed.try_get("id")?;
    let team_id = TeamId::from_stored(claimed.try_get("team_id")?);
    let user_id = UserId::from_stored(claimed.try_get("user_id")?);
    let mut tx = Audited::new(tx, &team_id, Some(&user_id), now_ms);
    let email: String =
        sqlx::query_scalar("UPDATE users SET password_hash = $1 WHERE id = $2 RETURNING email")
            .bind(fresh.as_str())
            .bind(user_id.as_str())
            .fetch_one(&mut **tx)
            .await?;
    end_sessions(&mut tx, &user_id).await?;
    clear_failures(&mut tx, &email).await?;
    tx.record(
        AuditKind::MemberPasswordSet,
        Some(user_id.as_str()),
        json!({ "link": link_id }),
    )
    .await?;
    tx.commit().await?;
    super::start_session(store, &team_id, &user_id, now_ms).await
}

/// Ends `user_id`'s unused set-password links: a newer link or a password set
/// another way replaces them.
pub(super) async fn revoke_open_links(
    tx: &mut Audited<'_>,
    user_id: &UserId,
) -> Result<(), ServerError> {
    let at_ms = tx.at_ms();
    sqlx::query(
        "UPDATE password_links SET revoked_at = $1
         WHERE user_id = $2 AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(at_ms)
    .bind(user_id.as_str())
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// The earlier wrong guesses should not lock out the new password.
pub(super) async fn clear_failures(tx: &mut Audited<'_>, email: &str) -> Result<(), ServerError> {
    sqlx::query("DELETE FROM login_failures WHERE email = $1")
        .bind(email)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}
