//! Teams, members and sign-in: password login with a per-account failure limit,
//! short-lived access tokens, and refresh tokens that rotate on every use — a
//! refresh token used twice means it was copied, and ends the whole session.

use std::time::Duration;

use kaito_api::{AuditKind, MeView, MemberView, Role, TokenPair};
use sqlx::Row as _;

use crate::audited::Audited;
use crate::error::ServerError;
use crate::ids::{SessionId, TeamId, UserId};
use crate::secrets::{decoy_hash, hash_password, new_token, token_hash, verify_password};
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
fn millis(duration: Duration) -> i64 {
    duration.as_millis() as i64
}

/// Who is making a request, as read from a valid access token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub team_id: TeamId,
    pub role: Role,
    pub session_id: SessionId,
}

pub(crate) fn normalise_email(email: &str) -> Result<String, ServerError> {
    let email = email.trim().to_lowercase();
    let valid = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if valid {
        Ok(email)
    } else {
        Err(ServerError::BadRequest(format!(
            "“{email}” is not an email address."
        )))
    }
}

/// Passwords under 12 characters are refused: the team's shared 2FA seeds sit
/// behind them.
fn check_password_strength(password: &str) -> Result<(), ServerError> {
    if password.chars().count() < 12 {
        return Err(ServerError::BadRequest(
            "The password must have at least 12 characters.".to_owned(),
        ));
    }
    Ok(())
}

fn role_of(text: &str) -> Result<Role, ServerError> {
    Role::parse(text).ok_or_else(|| ServerError::Corrupt(format!("unknown role {text}")))
}

/// A new team and its owner (the bootstrap of `kaito-server admin create`).
pub async fn create_team_with_owner(
    store: &Store,
    team_name: &str,
    email: &str,
    name: &str,
    password: &str,
    now_ms: i64,
) -> Result<(TeamId, UserId), ServerError> {
    let team_id = TeamId::generate()?;
    // The server adds the owner: no one is signed in yet.
    let mut tx = store.audited_in(&team_id, None, now_ms).await?;
    sqlx::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(team_id.as_str())
        .bind(team_name.trim())
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    let user_id = insert_user(&mut tx, (email, name, Role::Owner), password).await?;
    tx.commit().await?;
    Ok((team_id, user_id))
}

/// A new member of the admin's team with `role`.
pub async fn create_user(
    store: &Store,
    admin: &Caller,
    (email, name, role): (&str, &str, Role),
    password: &str,
    now_ms: i64,
) -> Result<UserId, ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let user_id = insert_user(&mut tx, (email, name, role), password).await?;
    tx.commit().await?;
    Ok(user_id)
}

/// A new member of `tx`'s team, added by `tx`'s actor.
pub(crate) async fn insert_user(
    tx: &mut Audited<'_>,
    (email, name, role): (&str, &str, Role),
    password: &str,
) -> Result<UserId, ServerError> {
    let email = normalise_email(email)?;
    check_password_strength(password)?;
    let taken = sqlx::query("SELECT 1 AS found FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(&mut ***tx)
        .await?
        .is_some();
    if taken {
        return Err(ServerError::EmailTaken(email));
    }
    let user_id = UserId::generate()?;
    sqlx::query(
        "INSERT INTO users (id, team_id, email, name, role, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(user_id.as_str())
    .bind(tx.team_id().as_str())
    .bind(email.as_str())
    .bind(name.trim())
    .bind(role.as_str())
    .bind(hash_password(password)?)
    .bind(tx.at_ms())
    .execute(&mut ***tx)
    .await?;
    tx.record(
        AuditKind::MemberAdded,
        Some(user_id.as_str()),
        serde_json::json!({ "email": email, "role": role.as_str() }),
    )
    .await?;
    Ok(user_id)
}

/// Signs in with email and password: a new session and its first tokens.
pub async fn login(
    store: &Store,
    email: &str,
    password: &str,
    now_ms: i64,
) -> Result<TokenPair, ServerError> {
    let email = normalise_email(email).map_err(|_| ServerError::InvalidCredentials)?;
    let window_open_since = now_ms - millis(FAILURE_WINDOW);
    let failures = sqlx::query(
        "SELECT window_start, failures FROM login_failures WHERE email = $1 AND window_start > $2",
    )
    .bind(email.as_str())
    .bind(window_open_since)
    .fetch_optional(store.pool())
    .await?;
    if let Some(row) = failures {
        let (window_start, count): (i64, i64) =
            (row.try_get("window_start")?, row.try_get("failures")?);
        if count >= MAX_FAILURES {
            let wait_ms = window_start + millis(FAILURE_WINDOW) - now_ms;
            return Err(ServerError::RateLimited {
                retry_after_secs: u64::try_from(wait_ms.max(0) / 1000 + 1).unwrap_or(1),
            });
        }
    }
    let user =
        sqlx::query("SELECT id, team_id, password_hash, disabled_at FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(store.pool())
            .await?;
    let stored_hash = match &user {
        Some(row) => row.try_get::<String, _>("password_hash")?,
        None => decoy_hash().to_owned(),
    };
    // Hashing is CPU work: off the async workers.
    let typed = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || verify_password(&typed, &stored_hash))
        .await
        .map_err(|error| ServerError::PasswordHash(error.to_string()))??;
    let user = match user {
        Some(row) if matches && row.try_get::<Option<i64>, _>("disabled_at")?.is_none() => row,
        known => {
            record_failure(store, &email, now_ms).await?;
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
    sqlx::query("DELETE FROM login_failures WHERE email = $1")
        .bind(email.as_str())
        .execute(store.pool())
        .await?;
    let user_id = UserId::from_stored(user.try_get("id")?);
    let team_id = TeamId::from_stored(user.try_get("team_id")?);
    start_session(store, &team_id, &user_id, now_ms).await
}

async fn record_failure(store: &Store, email: &str, now_ms: i64) -> Result<(), ServerError> {
    // A window older than FAILURE_WINDOW starts over at this failure.
    sqlx::query(
        "INSERT INTO login_failures (email, window_start, failures) VALUES ($1, $2, 1)
         ON CONFLICT (email) DO UPDATE SET
           failures = CASE WHEN login_failures.window_start <= $3 THEN 1
                           ELSE login_failures.failures + 1 END,
           window_start = CASE WHEN login_failures.window_start <= $3 THEN $2
                               ELSE login_failures.window_start END",
    )
    .bind(email)
    .bind(now_ms)
    .bind(now_ms - millis(FAILURE_WINDOW))
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
    tx.record(
        AuditKind::Login,
        Some(session_id.as_str()),
        serde_json::json!({}),
    )
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
    let replayed =
        sqlx::query("SELECT session_id FROM spent_refresh_tokens WHERE refresh_hash = $1")
            .bind(hash.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(row) = replayed {
        let session_id: String = row.try_get("session_id")?;
        revoke_session_in(&mut tx, &SessionId::from_stored(session_id), now_ms).await?;
        tx.commit().await?;
        tracing::warn!("a spent refresh token was presented again; its session is revoked");
        return Err(ServerError::InvalidRefresh);
    }
    let session = sqlx::query(
        "SELECT s.id, s.generation FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.refresh_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
           AND u.disabled_at IS NULL",
    )
    .bind(hash.as_str())
    .bind(now_ms)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ServerError::InvalidRefresh)?;
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
        return Err(ServerError::InvalidRefresh);
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

pub async fn me(store: &Store, caller: &Caller) -> Result<MeView, ServerError> {
    let row = sqlx::query(
        "SELECT u.email, u.name, u.role, t.id AS team_id, t.name AS team_name
         FROM users u JOIN teams t ON t.id = u.team_id WHERE u.id = $1",
    )
    .bind(caller.user_id.as_str())
    .fetch_one(store.pool())
    .await?;
    Ok(MeView {
        user_id: caller.user_id.to_string(),
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: role_of(&row.try_get::<String, _>("role")?)?,
        team_id: row.try_get("team_id")?,
        team_name: row.try_get("team_name")?,
    })
}

pub async fn members(store: &Store, team_id: &TeamId) -> Result<Vec<MemberView>, ServerError> {
    let rows = sqlx::query(
        "SELECT id, email, name, role, disabled_at FROM users WHERE team_id = $1 ORDER BY email",
    )
    .bind(team_id.as_str())
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(MemberView {
                user_id: row.try_get("id")?,
                email: row.try_get("email")?,
                name: row.try_get("name")?,
                role: role_of(&row.try_get::<String, _>("role")?)?,
                disabled: row.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
            })
        })
        .collect()
}

/// Disables a member of the caller's team: their sessions end at once.
pub async fn disable_user(
    store: &Store,
    admin: &Caller,
    user_id: &UserId,
    now_ms: i64,
) -> Result<(), ServerError> {
    let team_id = &admin.team_id;
    let mut tx = store.audited(admin, now_ms).await?;
    let updated = sqlx::query(
        "UPDATE users SET disabled_at = $1 WHERE id = $2 AND team_id = $3 AND disabled_at IS NULL",
    )
    .bind(now_ms)
    .bind(user_id.as_str())
    .bind(team_id.as_str())
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(ServerError::NotFound(format!(
            "No active member {user_id} in your team."
        )));
    }
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(now_ms)
        .bind(user_id.as_str())
        .execute(&mut **tx)
        .await?;
    tx.record(
        AuditKind::MemberDisabled,
        Some(user_id.as_str()),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await
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

/// Who a grant (to a token or to a phone number) is for: one member, or a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantSubject {
    User(UserId),
    Group(crate::ids::GroupId),
}

impl GrantSubject {
    /// From a request naming exactly one of `user_id` and `group_id`.
    pub fn from_ids(user_id: Option<&str>, group_id: Option<&str>) -> Result<Self, ServerError> {
        match (user_id, group_id) {
            (Some(user), None) => Ok(Self::User(UserId::from_stored(user.to_owned()))),
            (None, Some(group)) => Ok(Self::Group(crate::ids::GroupId::from_stored(
                group.to_owned(),
            ))),
            _ => Err(ServerError::BadRequest(
                "A grant names exactly one of user_id and group_id.".to_owned(),
            )),
        }
    }

    #[must_use]
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Self::User(user) => Some(user.as_str()),
            Self::Group(_) => None,
        }
    }

    #[must_use]
    pub fn group_id(&self) -> Option<&str> {
        match self {
            Self::User(_) => None,
            Self::Group(group) => Some(group.as_str()),
        }
    }

    /// Fails with "not found" unless the member or group belongs to `team_id`.
    pub async fn check_in_team(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        team_id: &TeamId,
    ) -> Result<(), ServerError> {
        let (query, what, id) = match self {
            Self::User(user) => (
                "SELECT 1 AS found FROM users WHERE id = $1 AND team_id = $2",
                "member",
                user.as_str(),
            ),
            Self::Group(group) => (
                "SELECT 1 AS found FROM groups WHERE id = $1 AND team_id = $2",
                "group",
                group.as_str(),
            ),
        };
        let found = sqlx::query(query)
            .bind(id)
            .bind(team_id.as_str())
            .fetch_optional(&mut **tx)
            .await?
            .is_some();
        if found {
            Ok(())
        } else {
            Err(ServerError::NotFound(format!(
                "No {what} {id} in your team."
            )))
        }
    }
}
