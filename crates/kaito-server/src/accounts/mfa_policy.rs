//! A team's "second factor required" policy: with it on, a member whose account
//! has no authenticator gets, for a right password, a challenge to set one up;
//! scanning it and typing its first code finishes the sign-in, with recovery
//! codes. Both steps count against the account's failure limit, as a code does.

use kaito_api::{AuditKind, EnrolledSignIn, MfaPolicy, TotpEnrolment};
use serde_json::json;
use sqlx::Row as _;

use super::Caller;
use super::mfa::{Purpose, confirm_pending, seal_new_secret};
use super::passwords::clear_failures;
use super::sessions::{start_session, take_attempt};
use crate::custody::ServerKey;
use crate::error::ServerError;
use crate::ids::{TeamId, UserId};
use crate::secrets::token_hash;
use crate::store::Store;

/// Whether `team_id` requires a second factor of everyone.
pub async fn required(store: &Store, team_id: &TeamId) -> Result<bool, ServerError> {
    let required: Option<i64> = sqlx::query_scalar("SELECT mfa_required FROM teams WHERE id = $1")
        .bind(team_id.as_str())
        .fetch_optional(store.pool())
        .await?;
    Ok(required.unwrap_or(0) != 0)
}

pub async fn policy(store: &Store, caller: &Caller) -> Result<MfaPolicy, ServerError> {
    Ok(MfaPolicy {
        required: required(store, &caller.team_id).await?,
    })
}

/// An owner requires (or stops requiring) a second factor of everyone. Sessions
/// already open go on; each member without one sets it up at their next sign-in.
pub async fn set_policy(
    store: &Store,
    owner: &Caller,
    policy: MfaPolicy,
    now_ms: i64,
) -> Result<MfaPolicy, ServerError> {
    let mut tx = store.audited(owner, now_ms).await?;
    sqlx::query("UPDATE teams SET mfa_required = $1 WHERE id = $2")
        .bind(i64::from(policy.required))
        .bind(owner.team_id.as_str())
        .execute(&mut **tx)
        .await?;
    tx.record(
        AuditKind::MfaPolicyChanged,
        None,
        json!({ "required": policy.required }),
    )
    .await?;
    tx.commit().await?;
    Ok(policy)
}

/// The account an unused, unexpired enrolment challenge belongs to, if active.
async fn challenged(
    store: &Store,
    challenge: &str,
    now_ms: i64,
) -> Result<(UserId, TeamId, String), ServerError> {
    let row = sqlx::query(
        "SELECT c.user_id, u.team_id, u.email FROM mfa_challenges c JOIN users u ON u.id = c.user_id
         WHERE c.token_hash = $1 AND c.used_at IS NULL AND c.expires_at > $2
           AND c.purpose = $3 AND u.disabled_at IS NULL",
    )
    .bind(token_hash(challenge.trim()))
    .bind(now_ms)
    .bind(Purpose::Enrol.as_str())
    .fetch_optional(store.pool())
    .await?
    .ok_or(ServerError::InvalidMfaChallenge)?;
    Ok((
        UserId::from_stored(row.try_get("user_id")?),
        TeamId::from_stored(row.try_get("team_id")?),
        row.try_get("email")?,
    ))
}

/// The secret to scan for a sign-in that must set up an authenticator.
pub async fn begin_enrolment(
    store: &Store,
    key: &ServerKey,
    challenge: &str,
    now_ms: i64,
) -> Result<TotpEnrolment, ServerError> {
    let (user_id, _, _) = challenged(store, challenge, now_ms).await?;
    seal_new_secret(store, key, &user_id, now_ms).await
}

/// The new authenticator's first code finishes the sign-in: it is in force, the
/// session starts, and the recovery codes are shown this once.
pub async fn confirm_enrolment(
    store: &Store,
    key: &ServerKey,
    (challenge, code): (&str, &str),
    now_ms: i64,
) -> Result<EnrolledSignIn, ServerError> {
    let (user_id, team_id, email) = challenged(store, challenge, now_ms).await?;
    take_attempt(store, &email, now_ms).await?;
    let mut tx = store.audited_in(&team_id, Some(&user_id), now_ms).await?;
    let Some(recovery_codes) = confirm_pending(&mut tx, key, &user_id, code, now_ms).await? else {
        tx.record(
            AuditKind::LoginFailed,
            Some(user_id.as_str()),
            json!({ "reason": "second_factor" }),
        )
        .await?;
        tx.commit().await?;
        return Err(ServerError::InvalidSecondFactor);
    };
    let claimed = sqlx::query(
        "UPDATE mfa_challenges SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
    )
    .bind(now_ms)
    .bind(token_hash(challenge.trim()))
    .execute(&mut **tx)
    .await?;
    if claimed.rows_affected() != 1 {
        return Err(ServerError::InvalidMfaChallenge);
    }
    clear_failures(&mut tx, &email).await?;
    tx.record(
        AuditKind::MfaEnrolled,
        Some(user_id.as_str()),
        json!({ "method": "totp", "at_sign_in": true }),
    )
    .await?;
    tx.commit().await?;
    Ok(EnrolledSignIn {
        tokens: start_session(store, &team_id, &user_id, now_ms).await?,
        recovery_codes,
    })
}
