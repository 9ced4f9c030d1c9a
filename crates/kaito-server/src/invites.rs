//! Invite links. An admin invites an email address with a role; the link carries a
//! one-time token (stored only as its hash) that lets its holder join the team with
//! a name and password of their own, within a week, once.

use crate::ids::NewId as _;
use std::time::Duration;

use kaito_api::{AuditKind, CreatedInvite, InviteView, Role, TokenPair};
use serde_json::json;
use sqlx::Row as _;

use crate::accounts::{self, Caller};
use crate::audited::Audited;
use crate::error::ServerError;
use crate::ids::{InviteId, TeamId, UserId};
use crate::password_work::NewPasswordHash;
use crate::secrets::{new_token, token_hash};
use crate::store::Store;

/// How long an invite link works.
pub const INVITE_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// Invite tokens start with this, so they are told apart from other tokens.
pub const PREFIX: &str = "kin_";

/// Invites `email` to the admin's team. `public_url` (the server's, as members
/// reach it) makes the `kaito://join` link.
pub async fn create(
    store: &Store,
    admin: &Caller,
    (email, role): (&str, Role),
    public_url: Option<&str>,
    now_ms: i64,
) -> Result<CreatedInvite, ServerError> {
    if role > Role::Member && admin.role < Role::Owner {
        return Err(ServerError::Forbidden {
            have: admin.role,
            need: Role::Owner,
        });
    }
    let email = accounts::normalise_email(email)?;
    let invite_id = InviteId::generate()?;
    let token = format!("{PREFIX}{}", new_token()?.as_str());
    let expires_at = now_ms + i64::try_from(INVITE_LIFETIME.as_millis()).unwrap_or(i64::MAX);
    let mut tx = store.audited(admin, now_ms).await?;
    // Only the admin's own team is told the email is taken: an answer about
    // another team's accounts would let any admin probe the whole server. That
    // invite simply cannot be accepted (its holder owns the email and is told).
    let own_member = sqlx::query("SELECT 1 AS found FROM users WHERE email = $1 AND team_id = $2")
        .bind(email.as_str())
        .bind(admin.team_id.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    if own_member {
        return Err(ServerError::EmailTaken(email));
    }
    sqlx::query(
        "INSERT INTO invites (id, team_id, email, role, token_hash, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(invite_id.as_str())
    .bind(admin.team_id.as_str())
    .bind(email.as_str())
    .bind(role.as_str())
    .bind(token_hash(&token))
    .bind(admin.user_id.as_str())
    .bind(now_ms)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    tx.record(
        AuditKind::InviteCreated,
        Some(invite_id.as_str()),
        json!({ "email": email, "role": role.as_str(), "expires_at": expires_at }),
    )
    .await?;
    tx.commit().await?;
    let link = crate::secrets::app_link(public_url, ("join", "invite"), &token);
    Ok(CreatedInvite {
        id: invite_id.to_string(),
        token,
        link,
        expires_at,
    })
}

/// The team's invites that can still be used.
pub async fn pending(
    store: &Store,
    team_id: &TeamId,
    now_ms: i64,
) -> Result<Vec<InviteView>, ServerError> {
    let rows = sqlx::query(
        "SELECT id, email, role, created_by, created_at, expires_at FROM invites
         WHERE team_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2
         ORDER BY created_at, id",
    )
    .bind(team_id.as_str())
    .bind(now_ms)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let role: String = row.try_get("role")?;
            Ok(InviteView {
                id: row.try_get("id")?,
                email: row.try_get("email")?,
                role: Role::parse(&role)
                    .ok_or_else(|| ServerError::Corrupt(format!("an invite's role “{role}”")))?,
                created_by: row.try_get("created_by")?,
                created_at: row.try_get("created_at")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .collect()
}

pub async fn revoke(
    store: &Store,
    admin: &Caller,
    invite_id: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let revoked = sqlx::query(
        "UPDATE invites SET revoked_at = $1
         WHERE id = $2 AND team_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now_ms)
    .bind(invite_id)
    .bind(admin.team_id.as_str())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if revoked == 0 {
        return Err(ServerError::NotFound(format!(
            "No open invite {invite_id} in your team."
        )));
    }
    tx.record(AuditKind::InviteRevoked, Some(invite_id), json!({}))
        .await?;
    tx.commit().await
}

/// Revokes, in `tx`, the open invites `user_id` made: part of disabling them, so
/// nobody they invited joins after they are gone. Answers the ids.
pub(crate) async fn revoke_made_by(
    tx: &mut Audited<'_>,
    user_id: &UserId,
) -> Result<Vec<String>, ServerError> {
    let at_ms = tx.at_ms();
    let revoked = sqlx::query_scalar(
        "UPDATE invites SET revoked_at = $1
         WHERE created_by = $2 AND accepted_at IS NULL AND revoked_at IS NULL RETURNING id",
    )
    .bind(at_ms)
    .bind(user_id.as_str())
    .fetch_all(&mut ***tx)
    .await?;
    Ok(revoked)
}

/// Joins the team with an invite token: the account is created with the invited
/// email and role, and signed in. The inviter must still be an active member.
/// Refuses a token that names no open invite, with the same error `accept` gives.
/// Asked before the new password is hashed, so a made-up token costs no Argon2
/// work; `accept` checks again as it claims the invite.
pub async fn check_open(store: &Store, token: &str, now_ms: i64) -> Result<(), ServerError> {
    sqlx::query(
        "SELECT 1 AS found FROM invites
         WHERE token_hash = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1
           AND created_by IN (SELECT id FROM users WHERE disabled_at IS NULL)",
    )
    .bind(now_ms)
    .bind(token_hash(token.trim()))
    .fetch_optional(store.pool())
    .await?
    .map(|_| ())
    .ok_or(ServerError::InvalidInvite)
}

pub async fn accept(
    store: &Store,
    token: &str,
    (name, password): (&str, &NewPasswordHash),
    now_ms: i64,
) -> Result<TokenPair, ServerError> {
    if name.trim().is_empty() {
        return Err(ServerError::BadRequest("Give your name.".to_owned()));
    }
    let mut tx = store.write_tx().await?;
    // Claimed in one statement, so two people opening the same link cannot both join.
    let invite = sqlx::query(
        "UPDATE invites SET accepted_at = $1
         WHERE token_hash = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1
           AND created_by IN (SELECT id FROM users WHERE disabled_at IS NULL)
         RETURNING id, team_id, email, role, created_by",
    )
    .bind(now_ms)
    .bind(token_hash(token.trim()))
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ServerError::InvalidInvite)?;
    let invite_id: String = invite.try_get("id")?;
    let team_id = TeamId::from_stored(invite.try_get("team_id")?);
    let email: String = invite.try_get("email")?;
    let role: String = invite.try_get("role")?;
    let role = Role::parse(&role)
        .ok_or_else(|| ServerError::Corrupt(format!("an invite's role “{role}”")))?;
    let inviter = UserId::from_stored(invite.try_get("created_by")?);
    // The invite names the team and who added the member.
    let mut tx = Audited::new(tx, &team_id, Some(&inviter), now_ms);
    // A weak password fails here, before anything is kept: the link still works.
    // The invitee owns the email, so they may hear it has an account already.
    let user_id = accounts::insert_user(&mut tx, (&email, name, role), password)
        .await
        .map_err(|error| match error {
            ServerError::EmailUnavailable => ServerError::EmailTaken(email.clone()),
            other => other,
        })?;
    sqlx::query("UPDATE invites SET accepted_user_id = $1 WHERE id = $2")
        .bind(user_id.as_str())
        .bind(invite_id.as_str())
        .execute(&mut **tx)
        .await?;
    tx.record_as(
        Some(user_id.as_str()),
        AuditKind::InviteAccepted,
        Some(invite_id.as_str()),
        json!({ "email": email }),
    )
    .await?;
    tx.commit().await?;
    accounts::start_session(store, &team_id, &user_id, now_ms).await
}
