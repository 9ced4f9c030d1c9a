//! A member's sign-in through the team's identity provider. `start` names the
//! team by the email's domain, keeps the sign-in's state, nonce and PKCE challenge
//! and answers the provider's page; `finish` takes what came back on the
//! loopback redirect with the app's verifier, trades the code, checks the ID
//! token, and starts a session for the member with that email. The provider's
//! own second factor stands in for Kaito's.

use std::time::Duration;

use base64::Engine as _;
use kaito_api::{AuditKind, Role, SsoAvailability, SsoFinish, SsoRedirect, SsoStart, TokenPair};
use serde_json::json;
use sha2::Digest as _;
use sqlx::Row as _;

use super::SsoError;
use super::provider::{IdentityProvider, OutboundHttp, VerifiedClaims};
use super::settings::{self, Stored};
use crate::accounts::{normalise_email, role_of, start_session_with};
use crate::audited::Audited;
use crate::custody::ServerKey;
use crate::error::ServerError;
use crate::ids::{TeamId, UserId};
use crate::secrets::{new_token, token_hash};
use crate::store::Store;

/// How long a sign-in may stay in the browser.
pub const ATTEMPT_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// Whether `email`'s domain signs in through an identity provider here.
pub async fn availability(store: &Store, email: &str) -> Result<SsoAvailability, ServerError> {
    Ok(match settings::team_of(store, email).await? {
        Some((_, sso_only)) => SsoAvailability {
            available: true,
            sso_only,
        },
        None => SsoAvailability {
            available: false,
            sso_only: false,
        },
    })
}

/// Only the app's own loopback listener may receive the code (RFC 8252 §7.3).
fn check_redirect(redirect_uri: &str) -> Result<(), ServerError> {
    let bad = || {
        ServerError::BadRequest(
            "The redirect must be the app's loopback address, like http://127.0.0.1:PORT/callback."
                .to_owned(),
        )
    };
    let url = openidconnect::url::Url::parse(redirect_uri).map_err(|_| bad())?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]"));
    if url.scheme() != "http" || !loopback || url.port().is_none() || url.query().is_some() {
        return Err(bad());
    }
    Ok(())
}

fn check_challenge(challenge: &str) -> Result<(), ServerError> {
    let valid = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(ServerError::BadRequest(
            "The code challenge must be BASE64URL(SHA-256(verifier)), 43 characters.".to_owned(),
        ))
    }
}

/// Begins a sign-in: the provider's page, to open in the system browser.
pub async fn start(
    store: &Store,
    (key, http): (&ServerKey, &OutboundHttp),
    request: &SsoStart,
    now_ms: i64,
) -> Result<SsoRedirect, ServerError> {
    check_redirect(&request.redirect_uri)?;
    check_challenge(&request.code_challenge)?;
    let (team_id, _) = settings::team_of(store, &request.email)
        .await?
        .ok_or(SsoError::NotConfigured)?;
    let stored = settings::load(store, key, &team_id)
        .await?
        .ok_or(SsoError::NotConfigured)?;
    let provider = discover(http, &stored).await?;
    let state = new_token()?;
    let nonce = new_token()?;
    let authorize_url = provider.authorize_url(
        &request.redirect_uri,
        (&state, &nonce, &request.code_challenge),
        &stored.extra_scopes,
    )?;
    sqlx::query(
        "INSERT INTO sso_attempts (state_hash, team_id, nonce, redirect_uri, code_challenge,
           created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(token_hash(&state))
    .bind(team_id.as_str())
    .bind(nonce.as_str())
    .bind(request.redirect_uri.as_str())
    .bind(request.code_challenge.as_str())
    .bind(now_ms)
    .bind(now_ms + crate::accounts::millis(ATTEMPT_LIFETIME))
    .execute(store.pool())
    .await?;
    Ok(SsoRedirect {
        authorize_url,
        state: state.to_string(),
        expires_in_secs: ATTEMPT_LIFETIME.as_secs(),
    })
}

async fn discover<'a>(
    http: &'a OutboundHttp,
    stored: &Stored,
) -> Result<IdentityProvider<'a>, SsoError> {
    IdentityProvider::discover(
        http,
        &stored.issuer,
        &stored.client_id,
        &stored.client_secret,
    )
    .await
}

/// A sign-in in flight, claimed for this one finish.
struct Attempt {
    team_id: TeamId,
    nonce: String,
    redirect_uri: String,
}

/// Finishes a sign-in: a session for the member the provider vouches for.
pub async fn finish(
    store: &Store,
    (key, http): (&ServerKey, &OutboundHttp),
    answer: &SsoFinish,
    now_ms: i64,
) -> Result<TokenPair, ServerError> {
    let attempt = claim(store, answer, now_ms).await?;
    let signed_in = async {
        let stored = settings::load(store, key, &attempt.team_id)
            .await?
            .ok_or(SsoError::NotConfigured)?;
        let provider = discover(http, &stored).await?;
        let claims = provider
            .redeem(
                &attempt.redirect_uri,
                answer.code.trim(),
                &answer.code_verifier,
                &attempt.nonce,
            )
            .await?;
        let user_id = member_for(store, &attempt.team_id, &claims).await?;
        apply_group_rules(store, &attempt.team_id, &user_id, &stored, &claims, now_ms).await?;
        start_session_with(
            store,
            &attempt.team_id,
            &user_id,
            now_ms,
            json!({ "via": "sso", "issuer": stored.issuer }),
        )
        .await
    }
    .await;
    if let Err(ServerError::Sso(refusal)) = &signed_in {
        let mut tx = store.audited_in(&attempt.team_id, None, now_ms).await?;
        tx.record(
            AuditKind::LoginFailed,
            None,
            json!({ "via": "sso", "reason": refusal.reason() }),
        )
        .await?;
        tx.commit().await?;
    }
    signed_in
}

/// Takes the sign-in named by `state` for this finish, in one statement: a state
/// shown twice finishes nothing the second time. The verifier must be the one
/// whose challenge started it.
async fn claim(store: &Store, answer: &SsoFinish, now_ms: i64) -> Result<Attempt, ServerError> {
    let row = sqlx::query(
        "UPDATE sso_attempts SET used_at = $1
         WHERE state_hash = $2 AND used_at IS NULL AND expires_at > $1
         RETURNING team_id, nonce, redirect_uri, code_challenge",
    )
    .bind(now_ms)
    .bind(token_hash(answer.state.trim()))
    .fetch_optional(store.pool())
    .await?
    .ok_or(SsoError::AttemptInvalid)?;
    let challenge: String = row.try_get("code_challenge")?;
    let derived = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(answer.code_verifier.as_bytes()));
    if !kaito_core::secret::constant_time_eq(derived.as_bytes(), challenge.as_bytes()) {
        return Err(SsoError::AttemptInvalid.into());
    }
    Ok(Attempt {
        team_id: TeamId::from_stored(row.try_get("team_id")?),
        nonce: row.try_get("nonce")?,
        redirect_uri: row.try_get("redirect_uri")?,
    })
}

/// The active member of `team_id` with the ID token's email. A provider that
/// says the email is unverified is not believed.
async fn member_for(
    store: &Store,
    team_id: &TeamId,
    claims: &VerifiedClaims,
) -> Result<UserId, ServerError> {
    let email = claims
        .email()
        .map(|email| email.as_str().to_owned())
        .ok_or_else(|| SsoError::InvalidIdToken("it has no email claim".to_owned()))?;
    if claims.email_verified() == Some(false) {
        return Err(SsoError::EmailUnverified(email).into());
    }
    let normalised = normalise_email(&email).map_err(|_| SsoError::NoMember(email.clone()))?;
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM users WHERE email = $1 AND team_id = $2 AND disabled_at IS NULL",
    )
    .bind(normalised.as_str())
    .bind(team_id.as_str())
    .fetch_optional(store.pool())
    .await?;
    id.map(UserId::from_stored)
        .ok_or_else(|| SsoError::NoMember(email).into())
}

/// The values of the team's group claim in the ID token: a list, or one string.
fn claimed_groups(stored: &Stored, claims: &VerifiedClaims) -> Option<Vec<String>> {
    let name = stored.groups_claim.as_deref()?;
    let value = claims.additional_claims().claims.get(name)?;
    Some(match value {
        serde_json::Value::String(one) => vec![one.clone()],
        serde_json::Value::Array(many) => many
            .iter()
            .filter_map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    })
}

/// Brings the member's role and mapped groups in line with the provider's groups
/// at every sign-in: rules matched give their groups and the highest role named,
/// the groups of rules not matched are left, and where rules name roles but none
/// matched the member is a member. Owners keep their role. A token without the
/// claim changes nothing (a provider misconfigured must not empty the team).
async fn apply_group_rules(
    store: &Store,
    team_id: &TeamId,
    user_id: &UserId,
    stored: &Stored,
    claims: &VerifiedClaims,
    now_ms: i64,
) -> Result<(), ServerError> {
    let Some(groups) = claimed_groups(stored, claims) else {
        return Ok(());
    };
    let mut tx = store.audited_in(team_id, None, now_ms).await?;
    let matched = |value: &str| groups.iter().any(|group| group == value);
    let mut role: Option<Role> = None;
    for rule in &stored.group_rules {
        let is_member = matched(&rule.claim_value);
        if is_member {
            role = role.max(rule.role);
        }
        if let Some(group_id) = &rule.group_id {
            set_group(&mut tx, group_id.as_str(), user_id, is_member).await?;
        }
    }
    // Where rules give roles, the provider decides: no rule matched is member.
    if stored.group_rules.iter().any(|rule| rule.role.is_some()) {
        set_role(&mut tx, user_id, role.unwrap_or(Role::Member)).await?;
    }
    tx.commit_if_recorded().await
}

async fn set_group(
    tx: &mut Audited<'_>,
    group_id: &str,
    user_id: &UserId,
    member: bool,
) -> Result<(), ServerError> {
    let changed = if member {
        sqlx::query(
            "INSERT INTO group_members (group_id, user_id)
             SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM groups WHERE id = $1 AND team_id = $3)
             ON CONFLICT DO NOTHING",
        )
    } else {
        sqlx::query(
            "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2
               AND EXISTS (SELECT 1 FROM groups WHERE id = $1 AND team_id = $3)",
        )
    }
    .bind(group_id)
    .bind(user_id.as_str())
    .bind(tx.team_id().as_str())
    .execute(&mut ***tx)
    .await?
    .rows_affected()
        > 0;
    if changed {
        let kind = if member {
            AuditKind::GroupMemberAdded
        } else {
            AuditKind::GroupMemberRemoved
        };
        tx.record(
            kind,
            Some(group_id),
            json!({ "user_id": user_id.as_str(), "via": "sso" }),
        )
        .await?;
    }
    Ok(())
}

async fn set_role(tx: &mut Audited<'_>, user_id: &UserId, role: Role) -> Result<(), ServerError> {
    let current: String = sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
        .bind(user_id.as_str())
        .fetch_one(&mut ***tx)
        .await?;
    let current = role_of(&current)?;
    if current == role || current == Role::Owner {
        return Ok(());
    }
    sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(user_id.as_str())
        .execute(&mut ***tx)
        .await?;
    tx.record(
        AuditKind::MemberRoleChanged,
        Some(user_id.as_str()),
        json!({ "from": current.as_str(), "to": role.as_str(), "via": "sso" }),
    )
    .await
}
