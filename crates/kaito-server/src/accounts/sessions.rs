//! Sign-in: passwords with a per-account failure limit, sessions, short-lived
//! access tokens and rotating refresh tokens.

use crate::ids::NewId as _;
use std::time::Duration;

use kaito_api::{AuditKind, LoginAnswer, TokenPair};
use sqlx::Row as _;

use super::mfa::Purpose;
use super::{Caller, normalise_email, role_of};
use crate::error::ServerError;
use crate::ids::{SessionId, TeamId, UserId};
use crate::password_work::{Checked, PasswordWork};
use crate::secrets::{decoy_hash, new_token, token_hash};
use crate::store::Store;

/// Access tokens live 15 minutes: revocation never waits longer than that... and is
/// in fact immediate, since every request checks the session.
pub const ACCESS_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// A device that has not been used for 30 days signs in again.
pub const REFRESH_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// Failed sign-ins allowed per account in [`FAILURE_WINDOW`].
pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

#[allow(clippy::cast_possible_truncation)] // milliseconds for centuries fit in i64
pub(crate) fn millis(duration: Duration) -> i64 {
    duration.as_millis() as i64
}

/// Signs in with email and password: a new session and its first tokens.
pub async fn login(
    store: &Store,
    passwords: &PasswordWork,
    email: &str,
    password: &str,
    now_ms: i64,
) -> Result<LoginAnswer, ServerError> {
    let email = normalise_email(email).map_err(|_| ServerError::InvalidCredentials)?;
    let user = sqlx::query(
        "SELECT id, team_id, role, password_hash, disabled_at FROM users WHERE email = $1",
    )
    .bind(email.as_str())
    .fetch_optional(store.pool())
    .await?;
    let stored_hash = match &user {
        Some(row) => row.try_get::<String, _>("password_hash")?,
        None => decoy_hash().to_owned(),
    };
    let Checked {
        matches,
        replacement,
    } = counted_check(
        store,
        passwords,
        &email,
        (password, stored_hash.clone()),
        now_ms,
    )
    .await?;
    let user = match user {
        Some(row) if matches && row.try_get::<Option<i64>, _>("disabled_at")?.is_none() => row,
        // The attempt was counted before the check: a failure leaves it counted.
        known => {
            if let Some(row) = known {
                let reason = if matches { "disabled" } else { "password" };
                let team_id = TeamId::from_stored(row.try_get("team_id")?);
                let mut tx = store.audited_in(&team_id, None, now_ms).await?;
                tx.record(
                    AuditKind::LoginFailed,
                    Some(row.try_get::<&str, _>("id")?),
                    serde_json::json!({ "reason": reason }),
                )
                .await?;
                tx.commit().await?;
            }
            return Err(ServerError::InvalidCredentials);
        }
    };
    let user_id = UserId::from_stored(user.try_get("id")?);
    let team_id = TeamId::from_stored(user.try_get("team_id")?);
    if let Some(fresh_hash) = replacement {
        upgrade_hash(store, &user_id, &stored_hash, &fresh_hash).await?;
    }
    // Owners keep their password: the way back in when the provider is down.
    if role_of(user.try_get("role")?)? != kaito_api::Role::Owner
        && crate::sso::settings::passwords_off(store, &team_id).await?
    {
        return Err(crate::sso::SsoError::SsoOnly.into());
    }
    if super::mfa::has_totp(store, &user_id).await? {
        // The failures stay counted until the second step passes: a known
        // password must not reset the limit on guessing codes.
        return super::mfa::issue_challenge(store, &user_id, now_ms, Purpose::Verify)
            .await
            .map(LoginAnswer::SecondFactor);
    }
    if super::mfa_policy::required(store, &team_id).await? {
        // The team wants a second factor of everyone: this sign-in sets one up.
        return super::mfa::issue_challenge(store, &user_id, now_ms, Purpose::Enrol)
            .await
            .map(LoginAnswer::SecondFactor);
    }
    sqlx::query("DELETE FROM login_failures WHERE email = $1")
        .bind(email.as_str())
        .execute(store.pool())
        .await?;
    start_session(store, &team_id, &user_id, now_ms)
        .await
        .map(LoginAnswer::SignedIn)
}

/// Replaces an outdated password hash with a fresh one after a successful sign-in.
/// Only if it is still the one checked: a password changed meanwhile stays.
async fn upgrade_hash(
    store: &Store,
    user_id: &UserId,
    checked_hash: &str,
    fresh_hash: &str,
) -> Result<(), ServerError> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
        .bind(fresh_hash)
        .bind(user_id.as_str())
        .bind(checked_hash)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Removes the attempt windows that have closed: they limit nothing any more, and
/// they name emails (some of people without an account). Answers how many went.
pub async fn prune_login_failures(store: &Store, now_ms: i64) -> Result<u64, ServerError> {
    let pruned = sqlx::query("DELETE FROM login_failures WHERE window_start <= $1")
        .bind(now_ms - millis(FAILURE_WINDOW))
        .execute(store.pool())
        .await?;
    Ok(pruned.rows_affected())
}

/// What [`prune_spent_credentials`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub access_tokens: u64,
    pub spent_refresh_tokens: u64,
}

/// Removes credentials that can never work again: expired access tokens, and the
/// spent refresh tokens of sessions that ended or expired (they are kept while
/// their session lives, to catch a copied token shown again).
pub async fn prune_spent_credentials(store: &Store, now_ms: i64) -> Result<Pruned, ServerError> {
    let access_tokens = sqlx::query("DELETE FROM access_tokens WHERE expires_at <= $1")
        .bind(now_ms)
        .execute(store.pool())
        .await?
        .rows_affected();
    // Answered or not, a challenge past its five minutes opens nothing.
    sqlx::query("DELETE FROM mfa_challenges WHERE expires_at <= $1")
        .bind(now_ms)
        .execute(store.pool())
        .await?;
    let spent_refresh_tokens = sqlx::query(
        "DELETE FROM spent_refresh_tokens WHERE session_id IN
           (SELECT id FROM sessions WHERE revoked_at IS NOT NULL OR expires_at <= $1)",
    )
    .bind(now_ms)
    .execute(store.pool())
    .await?
    .rows_affected();
    Ok(Pruned {
        access_tokens,
        spent_refresh_tokens,
    })
}

/// [`prune_login_failures`] and [`prune_spent_credentials`] once an hour, for as
/// long as the server runs.
pub async fn prune_login_failures_forever(store: Store) {
    let mut hourly = tokio::time::interval(Duration::from_secs(3600));
    loop {
        hourly.tick().await;
        let now = crate::http::now_ms();
        if let Err(error) = prune_login_failures(&store, now).await {
            tracing::warn!(%error, "pruning closed sign-in windows failed; trying again in an hour");
        }
        if let Err(error) = prune_spent_credentials(&store, now).await {
            tracing::warn!(%error, "pruning spent credentials failed; trying again in an hour");
        }
    }
}

/// Checks `typed` against `stored` as one attempt on `email`'s account: counted
/// first ([`count_attempt`]), refused past [`MAX_FAILURES`] in the window, and
/// given back when every hashing slot was busy (not evaluated, so not counted: a
/// flood of other sign-ins must not use up this account's attempts). Sign-in and
/// a password change answer to this one limit.
pub(super) async fn counted_check(
    store: &Store,
    passwords: &PasswordWork,
    email: &str,
    (typed, stored): (&str, String),
    now_ms: i64,
) -> Result<Checked, ServerError> {
    let window_start = take_attempt(store, email, now_ms).await?;
    match passwords.check(typed, stored).await {
        Err(busy @ ServerError::Busy { .. }) => {
            uncount_attempt(store, email, window_start).await?;
            Err(busy)
        }
        checked => checked,
    }
}

/// Counts an attempt on `email` ([`count_attempt`]) and refuses it past
/// [`MAX_FAILURES`] in the window; answers when the window opened. Passwords and
/// second factors share it: one limit for both steps of a sign-in.
pub(super) async fn take_attempt(
    store: &Store,
    email: &str,
    now_ms: i64,
) -> Result<i64, ServerError> {
    let (attempts, window_start) = count_attempt(store, email, now_ms).await?;
    if attempts > MAX_FAILURES {
        let wait_ms = window_start + millis(FAILURE_WINDOW) - now_ms;
        return Err(ServerError::RateLimited {
            retry_after_secs: u64::try_from(wait_ms.max(0) / 1000 + 1).unwrap_or(1),
        });
    }
    Ok(window_start)
}

/// Counts an attempt on `email` before its password is checked, in one statement,
/// so a burst of parallel guesses cannot all be evaluated: exactly
/// [`MAX_FAILURES`] of them get a verdict. Answers the attempts now in the window
/// and when it opened; a window older than [`FAILURE_WINDOW`] starts over at this
/// attempt, and a successful sign-in clears it.
async fn count_attempt(store: &Store, email: &str, now_ms: i64) -> Result<(i64, i64), ServerError> {
    let row = sqlx::query(
        "INSERT INTO login_failures (email, window_start, failures) VALUES ($1, $2, 1)
         ON CONFLICT (email) DO UPDATE SET
           failures = CASE WHEN login_failures.window_start <= $3 THEN 1
                           ELSE login_failures.failures + 1 END,
           window_start = CASE WHEN login_failures.window_start <= $3 THEN $2
                               ELSE login_failures.window_start END
         RETURNING failures, window_start",
    )
    .bind(email)
    .bind(now_ms)
    .bind(now_ms - millis(FAILURE_WINDOW))
    .fetch_one(store.pool())
    .await?;
    Ok((row.try_get("failures")?, row.try_get("window_start")?))
}

/// Gives back an attempt [`count_attempt`] took, if its window is still the same.
async fn uncount_attempt(store: &Store, email: &str, window_start: i64) -> Result<(), ServerError> {
    sqlx::query(
        "UPDATE login_failures SET failures = failures - 1
         WHERE email = $1 AND window_start = $2 AND failures > 0",
    )
    .bind(email)
    .bind(window_start)
    .execute(store.pool())
    .await?;
    Ok(())
}

pub(crate) async fn start_session(
    store: &Store,
    team_id: &TeamId,
    user_id: &UserId,
    now_ms: i64,
) -> Result<TokenPair, ServerError> {
    start_session_with(store, team_id, user_id, now_ms, serde_json::json!({})).await
}

/// [`start_session`], with `details` on its `login` event (how it signed in).
pub(crate) async fn start_session_with(
    store: &Store,
    team_id: &TeamId,
    user_id: &UserId,
    now_ms: i64,
    details: serde_json::Value,
) -> Result<TokenPair, ServerError> {
    let session_id = SessionId::generate()?;
    let refresh = new_token()?;
    let mut tx = store.audited_in(team_id, Some(user_id), now_ms).await?;
    sqlx::query(
        "INSERT INTO sessions (id, user_id, refresh_hash, generation, created_at, expires_at)
         VALUES ($1, $2, $3, 0, $4, $5)",
    )
    .bind(session_id.as_str())
    .bind(user_id.as_str())
    .bind(token_hash(&refresh))
    .bind(now_ms)
    .bind(now_ms + millis(REFRESH_LIFETIME))
    .execute(&mut **tx)
    .await?;
    let access = issue_access(&mut tx, &session_id, now_ms).await?;
    tx.record(AuditKind::Login, Some(session_id.as_str()), details)
        .await?;
    tx.commit().await?;
    Ok(TokenPair {
        access_token: access.to_string(),
        access_expires_in_secs: ACCESS_LIFETIME.as_secs(),
        refresh_token: refresh.to_string(),
    })
}

async fn issue_access(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    session_id: &SessionId,
    now_ms: i64,
) -> Result<zeroize::Zeroizing<String>, ServerError> {
    let access = new_token()?;
    sqlx::query(
        "INSERT INTO access_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(token_hash(&access))
    .bind(session_id.as_str())
    .bind(now_ms + millis(ACCESS_LIFETIME))
    .execute(&mut **tx)
    .await?;
    Ok(access)
}

/// Trades a refresh token for new tokens. The old refresh token is spent; showing
/// it again revokes the session (whoever copied it and the owner both sign in anew).
pub async fn refresh(
    store: &Store,
    refresh_token: &str,
    now_ms: i64,
) -> Result<TokenPair, ServerError> {
    let hash = token_hash(refresh_token);
    let mut tx = store.write_tx().await?;
    let session = sqlx::query(
        "SELECT s.id, s.generation FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.refresh_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
           AND u.disabled_at IS NULL",
    )
    .bind(hash.as_str())
    .bind(now_ms)
    .fetch_optional(&mut *tx)
    .await?;
    // Not a live session's token: a spent one shown again is a replay. Checked
    // after the lookup, so a concurrent refresh with the same token that has just
    // committed (PostgreSQL's READ COMMITTED shows it now) is caught as well.
    let Some(session) = session else {
        let replayed =
            sqlx::query("SELECT session_id FROM spent_refresh_tokens WHERE refresh_hash = $1")
                .bind(hash.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(row) = replayed {
            let session_id = SessionId::from_stored(row.try_get("session_id")?);
            return end_replayed_session(tx, &session_id, now_ms).await;
        }
        return Err(ServerError::InvalidRefresh);
    };
    let session_id = SessionId::from_stored(session.try_get("id")?);
    let generation: i64 = session.try_get("generation")?;
    let next = new_token()?;
    // Compare-and-swap on the generation: of two concurrent refreshes, one wins.
    let swapped = sqlx::query(
        "UPDATE sessions SET refresh_hash = $1, generation = $2, expires_at = $3
         WHERE id = $4 AND generation = $5",
    )
    .bind(token_hash(&next))
    .bind(generation + 1)
    .bind(now_ms + millis(REFRESH_LIFETIME))
    .bind(session_id.as_str())
    .bind(generation)
    .execute(&mut *tx)
    .await?;
    if swapped.rows_affected() != 1 {
        // Another refresh with this same token won the swap: the token was
        // presented twice at once, a replay like a late one above.
        return end_replayed_session(tx, &session_id, now_ms).await;
    }
    sqlx::query("INSERT INTO spent_refresh_tokens (refresh_hash, session_id) VALUES ($1, $2)")
        .bind(hash.as_str())
        .bind(session_id.as_str())
        .execute(&mut *tx)
        .await?;
    let access = issue_access(&mut tx, &session_id, now_ms).await?;
    tx.commit().await?;
    Ok(TokenPair {
        access_token: access.to_string(),
        access_expires_in_secs: ACCESS_LIFETIME.as_secs(),
        refresh_token: next.to_string(),
    })
}

/// A refresh token was presented more than once: a copy is in someone else's
/// hands, so the session ends for every holder. Always answers `InvalidRefresh`.
async fn end_replayed_session(
    mut tx: sqlx::Transaction<'_, sqlx::Any>,
    session_id: &SessionId,
    now_ms: i64,
) -> Result<TokenPair, ServerError> {
    revoke_session_in(&mut tx, session_id, now_ms).await?;
    tx.commit().await?;
    tracing::warn!("a refresh token was presented more than once; its session is revoked");
    Err(ServerError::InvalidRefresh)
}

async fn revoke_session_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    session_id: &SessionId,
    now_ms: i64,
) -> Result<(), ServerError> {
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now_ms)
        .bind(session_id.as_str())
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM access_tokens WHERE session_id = $1")
        .bind(session_id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Signs the caller's session out everywhere its tokens were.
pub async fn logout(store: &Store, caller: &Caller, now_ms: i64) -> Result<(), ServerError> {
    let mut tx = store.write_tx().await?;
    revoke_session_in(&mut tx, &caller.session_id, now_ms).await?;
    tx.commit().await?;
    Ok(())
}

/// The caller behind an access token. Checked on every request against the
/// session and the account, so revoking either takes effect at once.
pub async fn authenticate(
    store: &Store,
    access_token: &str,
    now_ms: i64,
) -> Result<Caller, ServerError> {
    let row = sqlx::query(
        "SELECT u.id AS user_id, u.team_id, u.role, s.id AS session_id
         FROM access_tokens a
         JOIN sessions s ON s.id = a.session_id
         JOIN users u ON u.id = s.user_id
         WHERE a.token_hash = $1 AND a.expires_at > $2
           AND s.revoked_at IS NULL AND u.disabled_at IS NULL",
    )
    .bind(token_hash(access_token))
    .bind(now_ms)
    .fetch_optional(store.pool())
    .await?
    .ok_or(ServerError::Unauthenticated)?;
    Ok(Caller {
        user_id: UserId::from_stored(row.try_get("user_id")?),
        team_id: TeamId::from_stored(row.try_get("team_id")?),
        role: role_of(&row.try_get::<String, _>("role")?)?,
        session_id: SessionId::from_stored(row.try_get("session_id")?),
    })
}

/// Whether the caller's session and account are still live (long-lived streams
/// check this, so revocation reaches them too).
pub async fn still_signed_in(
    store: &Store,
    caller: &Caller,
    now_ms: i64,
) -> Result<bool, ServerError> {
    Ok(sqlx::query(
        "SELECT 1 AS found FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND u.disabled_at IS NULL",
    )
    .bind(caller.session_id.as_str())
    .bind(now_ms)
    .fetch_optional(store.pool())
    .await?
    .is_some())
}
