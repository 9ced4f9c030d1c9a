//! A second factor for Kaito accounts: an authenticator app (TOTP, ±1 step, a used
//! code never accepted again) and ten one-time recovery codes. With one confirmed,
//! a right password earns only a short-lived challenge; the session starts when
//! the challenge is answered with a code. Both steps count against the same
//! per-account failure limit.

use std::time::Duration;

use kaito_api::{
    AuditKind, MfaAnswer, MfaChallenge, MfaStatus, RecoveryCodes, Role, TokenPair, TotpConfirm,
    TotpEnrolment,
};
use kaito_core::otp::CodeGenerator;
use kaito_core::{Algorithm, OtpKind, Secret, Token};
use serde_json::json;
use sqlx::Row as _;

use super::passwords::{check_current_password, clear_failures};
use super::sessions::{millis, start_session, take_attempt};
use super::{Caller, may_act_on, role_of};
use crate::custody::ServerKey;
use crate::error::ServerError;
use crate::ids::{TeamId, UserId};
use crate::password_work::PasswordWork;
use crate::secrets::{new_token, token_hash};
use crate::store::Store;

/// How long the password step's challenge can be answered.
pub const CHALLENGE_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// Challenge tokens start with this, so they are told apart from other tokens.
pub const CHALLENGE_PREFIX: &str = "kmc_";
/// How many recovery codes an account gets each time.
pub const RECOVERY_CODE_COUNT: usize = 10;
const PERIOD: u32 = 30;
/// One step either side: a phone clock a little off still works.
const WINDOW_STEPS: u32 = 1;

/// The sealing id of a member's authenticator secret: never a shared token's id.
fn sealing_id(user_id: &UserId) -> String {
    format!("mfa-totp:{}", user_id.as_str())
}

fn generator(secret: Secret) -> Result<CodeGenerator, ServerError> {
    let token = Token::new(
        "",
        "",
        OtpKind::Totp { period: PERIOD },
        Algorithm::Sha1,
        6,
        secret,
    )
    .map_err(|error| ServerError::Corrupt(format!("an authenticator secret: {error}")))?;
    Ok(CodeGenerator::new(&token))
}

fn unix_secs(now_ms: i64) -> u64 {
    u64::try_from(now_ms / 1000).unwrap_or(0)
}

/// Whether `user_id` has a confirmed authenticator.
pub(super) async fn has_totp(store: &Store, user_id: &UserId) -> Result<bool, ServerError> {
    Ok(sqlx::query(
        "SELECT 1 AS found FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL",
    )
    .bind(user_id.as_str())
    .fetch_optional(store.pool())
    .await?
    .is_some())
}

/// The password step passed for an account with a second factor: a challenge to
/// answer with a code. No event yet; the sign-in is logged when it completes.
pub(super) async fn issue_challenge(
    store: &Store,
    user_id: &UserId,
    now_ms: i64,
    purpose: Purpose,
) -> Result<MfaChallenge, ServerError> {
    let challenge = format!("{CHALLENGE_PREFIX}{}", new_token()?.as_str());
    sqlx::query(
        "INSERT INTO mfa_challenges (token_hash, user_id, created_at, expires_at, purpose)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash(&challenge))
    .bind(user_id.as_str())
    .bind(now_ms)
    .bind(now_ms + millis(CHALLENGE_LIFETIME))
    .bind(purpose.as_str())
    .execute(store.pool())
    .await?;
    let methods: &[&str] = match purpose {
        Purpose::Verify => &["totp", "recovery_code"],
        Purpose::Enrol => &["enrol_totp"],
    };
    Ok(MfaChallenge {
        mfa_required: true,
        challenge,
        expires_in_secs: CHALLENGE_LIFETIME.as_secs(),
        methods: methods.iter().map(|&method| method.to_owned()).collect(),
    })
}

/// What a login challenge is answered with: a code of the account's
/// authenticator, or (the team requires one, the account has none) a new one set
/// up there and then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    Verify,
    Enrol,
}

impl Purpose {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Enrol => "enrol",
        }
    }
}

/// The second step of a sign-in: a live challenge and an authenticator code not
/// used before, or an unused recovery code. Counted against the account's failure
/// limit before it is checked, as a password is.
pub async fn complete_login(
    store: &Store,
    key: &ServerKey,
    answer: &MfaAnswer,
    now_ms: i64,
) -> Result<TokenPair, ServerError> {
    let challenge_hash = token_hash(answer.challenge.trim());
    let row = sqlx::query(
        "SELECT c.user_id, u.team_id, u.email FROM mfa_challenges c JOIN users u ON u.id = c.user_id
         WHERE c.token_hash = $1 AND c.used_at IS NULL AND c.expires_at > $2
           AND c.purpose = 'verify' AND u.disabled_at IS NULL",
    )
    .bind(challenge_hash.as_str())
    .bind(now_ms)
    .fetch_optional(store.pool())
    .await?
    .ok_or(ServerError::InvalidMfaChallenge)?;
    let user_id = UserId::from_stored(row.try_get("user_id")?);
    let team_id = TeamId::from_stored(row.try_get("team_id")?);
    let email: String = row.try_get("email")?;
    take_attempt(store, &email, now_ms).await?;
    let mut tx = store.audited_in(&team_id, Some(&user_id), now_ms).await?;
    let Some(method) = spend_code(&mut tx, key, &user_id, &answer.code, now_ms).await? else {
        tx.record(
            AuditKind::LoginFailed,
            Some(user_id.as_str()),
            json!({ "reason": "second_factor" }),
        )
        .await?;
        tx.commit().await?;
        return Err(ServerError::InvalidSecondFactor);
    };
    // Claimed in one statement: two answers to one challenge cannot both sign in.
    let claimed = sqlx::query(
        "UPDATE mfa_challenges SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
    )
    .bind(now_ms)
    .bind(challenge_hash.as_str())
    .execute(&mut **tx)
    .await?;
    if claimed.rows_affected() != 1 {
        return Err(ServerError::InvalidMfaChallenge);
    }
    clear_failures(&mut tx, &email).await?;
    tx.record(AuditKind::MfaVerified, Some(user_id.as_str()), method)
        .await?;
    tx.commit().await?;
    start_session(store, &team_id, &user_id, now_ms).await
}

/// Uses `typed` up if it is the authenticator's code for a step after the last one
/// accepted, or an unused recovery code: the event details naming the method, or
/// `None` for a wrong or used code.
async fn spend_code(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    key: &ServerKey,
    user_id: &UserId,
    typed: &str,
    now_ms: i64,
) -> Result<Option<serde_json::Value>, ServerError> {
    let compact: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if compact.len() == 6 && compact.chars().all(|c| c.is_ascii_digit()) {
        let Some(generator) = confirmed_generator(tx, key, user_id).await? else {
            return Ok(None);
        };
        let now = unix_secs(now_ms);
        let Some(offset) = generator.verify(&compact, now, WINDOW_STEPS) else {
            return Ok(None);
        };
        let Some(step) = generator.step_at(now).checked_add_signed(offset) else {
            return Ok(None);
        };
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        // Only a newer step than any accepted: a code seen over a shoulder, or
        // used a moment ago, does not open a second session.
        let spent = sqlx::query(
            "UPDATE mfa_totp SET last_step = $1
             WHERE user_id = $2 AND confirmed_at IS NOT NULL
               AND (last_step IS NULL OR last_step < $1)",
        )
        .bind(step)
        .bind(user_id.as_str())
        .execute(&mut **tx)
        .await?;
        return Ok((spent.rows_affected() == 1).then(|| json!({ "method": "totp" })));
    }
    let spent = sqlx::query(
        "UPDATE mfa_recovery_codes SET used_at = $1
         WHERE code_hash = $2 AND user_id = $3 AND used_at IS NULL",
    )
    .bind(now_ms)
    .bind(recovery_hash(&compact))
    .bind(user_id.as_str())
    .execute(&mut **tx)
    .await?;
    if spent.rows_affected() != 1 {
        return Ok(None);
    }
    let left = recovery_codes_left(tx, user_id).await?;
    Ok(Some(
        json!({ "method": "recovery_code", "recovery_codes_left": left }),
    ))
}

async fn confirmed_generator(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    key: &ServerKey,
    user_id: &UserId,
) -> Result<Option<CodeGenerator>, ServerError> {
    let Some(row) = sqlx::query(
        "SELECT wrapped_key, sealed_secret FROM mfa_totp
         WHERE user_id = $1 AND confirmed_at IS NOT NULL",
    )
    .bind(user_id.as_str())
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    open_generator(key, user_id, &row).map(Some)
}

fn open_generator(
    key: &ServerKey,
    user_id: &UserId,
    row: &sqlx::any::AnyRow,
) -> Result<CodeGenerator, ServerError> {
    let wrapped: Vec<u8> = row.try_get("wrapped_key")?;
    let sealed: Vec<u8> = row.try_get("sealed_secret")?;
    let secret = key.open(&sealing_id(user_id), &wrapped, &sealed)?;
    let secret = Secret::from_bytes(secret.to_vec())
        .map_err(|error| ServerError::Corrupt(format!("an authenticator secret: {error}")))?;
    generator(secret)
}

/// Recovery codes are typed by people: any case, with or without the dashes.
fn recovery_hash(compact: &str) -> String {
    token_hash(&compact.to_ascii_uppercase())
}

async fn recovery_codes_left(
    conn: &mut sqlx::AnyConnection,
    user_id: &UserId,
) -> Result<u32, ServerError> {
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id.as_str())
    .fetch_one(conn)
    .await?;
    Ok(u32::try_from(left).unwrap_or(0))
}

/// The caller's second factors.
pub async fn status(store: &Store, caller: &Caller) -> Result<MfaStatus, ServerError> {
    let totp = has_totp(store, &caller.user_id).await?;
    let mut conn = store.pool().acquire().await?;
    let recovery_codes_left = recovery_codes_left(&mut conn, &caller.user_id).await?;
    Ok(MfaStatus {
        totp,
        recovery_codes_left,
    })
}

/// Starts setting up an authenticator: a new secret, in force only once its first
/// code confirms it. Asking again replaces an unconfirmed one.
pub async fn begin_totp(
    store: &Store,
    key: &ServerKey,
    caller: &Caller,
    now_ms: i64,
) -> Result<TotpEnrolment, ServerError> {
    if has_totp(store, &caller.user_id).await? {
        return Err(ServerError::MfaState(
            "An authenticator is set up already. Turn it off first to set up another.".to_owned(),
        ));
    }
    seal_new_secret(store, key, &caller.user_id, now_ms).await
}

/// A new authenticator secret for `user_id`, sealed and kept unconfirmed (an
/// unconfirmed one before it is replaced); the secret and its link to show.
pub(super) async fn seal_new_secret(
    store: &Store,
    key: &ServerKey,
    user_id: &UserId,
    now_ms: i64,
) -> Result<TotpEnrolment, ServerError> {
    let row = sqlx::query(
        "SELECT u.email, t.name FROM users u JOIN teams t ON t.id = u.team_id WHERE u.id = $1",
    )
    .bind(user_id.as_str())
    .fetch_one(store.pool())
    .await?;
    let email: String = row.try_get("email")?;
    let team_name: String = row.try_get("name")?;
    let mut bytes = zeroize::Zeroizing::new(vec![0u8; 20]);
    getrandom::fill(bytes.as_mut_slice())?;
    let (wrapped, sealed) = key.seal(&sealing_id(user_id), &bytes)?;
    sqlx::query(
        "INSERT INTO mfa_totp (user_id, wrapped_key, sealed_secret, created_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE SET wrapped_key = $2, sealed_secret = $3,
           created_at = $4, confirmed_at = NULL, last_step = NULL
         WHERE mfa_totp.confirmed_at IS NULL",
    )
    .bind(user_id.as_str())
    .bind(wrapped)
    .bind(sealed)
    .bind(now_ms)
    .execute(store.pool())
    .await?;
    let secret = Secret::from_bytes(bytes.to_vec())
        .map_err(|error| ServerError::Corrupt(error.to_string()))?;
    let token = Token::new(
        format!("Kaito ({team_name})"),
        email,
        OtpKind::Totp { period: PERIOD },
        Algorithm::Sha1,
        6,
        secret,
    )
    .map_err(|error| ServerError::Corrupt(error.to_string()))?;
    Ok(TotpEnrolment {
        secret: token.secret.to_base32().to_string(),
        otpauth_uri: kaito_core::uri::to_uri(&token).to_string(),
    })
}

/// Confirms the authenticator with its current code and the caller's password:
/// from now on sign-in wants a second factor. Answers a fresh set of recovery codes, shown this once.
pub async fn confirm_totp(
    store: &Store,
    (key, passwords): (&ServerKey, &PasswordWork),
    caller: &Caller,
    confirm: &TotpConfirm,
    now_ms: i64,
) -> Result<RecoveryCodes, ServerError> {
    let (email, _) =
        check_current_password(store, passwords, caller, &confirm.current_password, now_ms).await?;
    let code = confirm.code.as_str();
    let mut tx = store.audited(caller, now_ms).await?;
    // Signed in and the password right: the count starts over, as after a sign-in.
    clear_failures(&mut tx, &email).await?;
    let codes = confirm_pending(&mut tx, key, &caller.user_id, code, now_ms)
        .await?
        .ok_or_else(|| {
            ServerError::BadRequest(
                "That is not the authenticator's current code. Check that its clock is right and type the code it shows now."
                    .to_owned(),
            )
        })?;
    tx.record(
        AuditKind::MfaEnrolled,
        Some(caller.user_id.as_str()),
        json!({ "method": "totp" }),
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Puts `user_id`'s authenticator being set up in force if `code` is its code
/// now (±1 step), with fresh recovery codes; `None` for a wrong code.
pub(super) async fn confirm_pending(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    key: &ServerKey,
    user_id: &UserId,
    code: &str,
    now_ms: i64,
) -> Result<Option<RecoveryCodes>, ServerError> {
    let row = sqlx::query(
        "SELECT wrapped_key, sealed_secret FROM mfa_totp
         WHERE user_id = $1 AND confirmed_at IS NULL",
    )
    .bind(user_id.as_str())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| {
        ServerError::MfaState(
            "No authenticator is being set up. Start again to get a new QR code.".to_owned(),
        )
    })?;
    let generator = open_generator(key, user_id, &row)?;
    let now = unix_secs(now_ms);
    let Some(step) = generator
        .verify(code.trim(), now, WINDOW_STEPS)
        .and_then(|offset| generator.step_at(now).checked_add_signed(offset))
    else {
        return Ok(None);
    };
    sqlx::query("UPDATE mfa_totp SET confirmed_at = $1, last_step = $2 WHERE user_id = $3")
        .bind(now_ms)
        .bind(i64::try_from(step).unwrap_or(i64::MAX))
        .bind(user_id.as_str())
        .execute(&mut **tx)
        .await?;
    replace_recovery_codes(tx, user_id, now_ms).await.map(Some)
}

async fn replace_recovery_codes(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: &UserId,
    now_ms: i64,
) -> Result<RecoveryCodes, ServerError> {
    sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
        .bind(user_id.as_str())
        .execute(&mut **tx)
        .await?;
    let mut codes = Vec::with_capacity(RECOVERY_CODE_COUNT);
    for _ in 0..RECOVERY_CODE_COUNT {
        // 80 random bits: a SHA-256 of it is as safe to keep as a token's.
        let mut bytes = vec![0u8; 10];
        getrandom::fill(&mut bytes)?;
        let compact = Secret::from_bytes(bytes)
            .map_err(|error| ServerError::Corrupt(error.to_string()))?
            .to_base32();
        sqlx::query(
            "INSERT INTO mfa_recovery_codes (code_hash, user_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(recovery_hash(&compact))
        .bind(user_id.as_str())
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
        let groups: Vec<&str> = (0..compact.len())
            .step_by(4)
            .map(|at| &compact[at..(at + 4).min(compact.len())])
            .collect();
        codes.push(groups.join("-"));
    }
    Ok(RecoveryCodes { codes })
}

/// New recovery codes for the caller, with their password; the old ones stop
/// working. Answers the new ones, shown this once.
pub async fn new_recovery_codes(
    store: &Store,
    passwords: &PasswordWork,
    caller: &Caller,
    current_password: &str,
    now_ms: i64,
) -> Result<RecoveryCodes, ServerError> {
    let (email, _) =
        check_current_password(store, passwords, caller, current_password, now_ms).await?;
    if !has_totp(store, &caller.user_id).await? {
        return Err(ServerError::MfaState(
            "Two-step sign-in is off, so there are no recovery codes to replace.".to_owned(),
        ));
    }
    let mut tx = store.audited(caller, now_ms).await?;
    clear_failures(&mut tx, &email).await?;
    let codes = replace_recovery_codes(&mut tx, &caller.user_id, now_ms).await?;
    tx.record(
        AuditKind::MfaRecoveryCodesReplaced,
        Some(caller.user_id.as_str()),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Deletes every second factor of `user_id`; whether anything was there.
async fn remove_all(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: &UserId,
) -> Result<bool, ServerError> {
    let removed = sqlx::query("DELETE FROM mfa_totp WHERE user_id = $1")
        .bind(user_id.as_str())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
        .bind(user_id.as_str())
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM mfa_challenges WHERE user_id = $1")
        .bind(user_id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(removed > 0)
}

/// The caller turns their own second factor off, with their password.
pub async fn remove_own(
    store: &Store,
    passwords: &PasswordWork,
    caller: &Caller,
    current_password: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let (email, _) =
        check_current_password(store, passwords, caller, current_password, now_ms).await?;
    let mut tx = store.audited(caller, now_ms).await?;
    clear_failures(&mut tx, &email).await?;
    if !remove_all(&mut tx, &caller.user_id).await? {
        return Err(ServerError::MfaState(
            "No second factor is set up for your account.".to_owned(),
        ));
    }
    tx.record(
        AuditKind::MfaRemoved,
        Some(caller.user_id.as_str()),
        json!({}),
    )
    .await?;
    tx.commit().await
}

/// An admin removes a member's second factor (a lost phone): they sign in with
/// their password alone until they set one up again. The rank rule applies, so
/// only an owner resets an admin's.
pub async fn reset_member(
    store: &Store,
    caller: &Caller,
    target: &UserId,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(caller, now_ms).await?;
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE id = $1 AND team_id = $2")
        .bind(target.as_str())
        .bind(caller.team_id.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| ServerError::NotFound("No such member in your team.".to_owned()))?;
    let role: Role = role_of(&role)?;
    if target != &caller.user_id {
        may_act_on(caller, role)?;
    }
    if !remove_all(&mut tx, target).await? {
        return Err(ServerError::MfaState(
            "This member has no second factor set up.".to_owned(),
        ));
    }
    tx.record(AuditKind::MfaReset, Some(target.as_str()), json!({}))
        .await?;
    tx.commit().await
}
