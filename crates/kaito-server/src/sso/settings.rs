//! A team's identity provider: issuer, client, the email domains that sign in
//! through it, group rules, and whether passwords still work. Owners set it;
//! admins may read it. The client secret is sealed with the server key and never
//! shown again.

use kaito_api::{AuditKind, Role, SsoGroupRule, SsoSettings, SsoSettingsUpdate};
use serde_json::json;
use sqlx::Row as _;

use super::SsoError;
use super::provider::{IdentityProvider, OutboundHttp};
use crate::accounts::{Caller, normalise_email};
use crate::audited::Audited;
use crate::custody::ServerKey;
use crate::error::ServerError;
use crate::ids::TeamId;
use crate::store::Store;

/// What sign-in needs of a team's settings, the secret opened.
pub(super) struct Stored {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: zeroize::Zeroizing<String>,
    pub groups_claim: Option<String>,
    pub group_rules: Vec<SsoGroupRule>,
    pub extra_scopes: Vec<String>,
}

fn sealing_id(team_id: &TeamId) -> String {
    format!("sso-client-secret:{}", team_id.as_str())
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<String, ServerError> {
    serde_json::to_string(value).map_err(|error| ServerError::Corrupt(error.to_string()))
}

fn corrupt(what: &str, error: &serde_json::Error) -> ServerError {
    ServerError::Corrupt(format!("the SSO {what}: {error}"))
}

/// The settings of `caller`'s team, or `configured: false`.
pub async fn get(store: &Store, caller: &Caller) -> Result<SsoSettings, ServerError> {
    let row = sqlx::query(
        "SELECT issuer, client_id, email_domains, groups_claim, group_rules, extra_scopes, sso_only
         FROM sso_settings WHERE team_id = $1",
    )
    .bind(caller.team_id.as_str())
    .fetch_optional(store.pool())
    .await?;
    let Some(row) = row else {
        return Ok(SsoSettings {
            configured: false,
            issuer: String::new(),
            client_id: String::new(),
            email_domains: Vec::new(),
            groups_claim: None,
            group_rules: Vec::new(),
            extra_scopes: Vec::new(),
            sso_only: false,
        });
    };
    Ok(SsoSettings {
        configured: true,
        issuer: row.try_get("issuer")?,
        client_id: row.try_get("client_id")?,
        email_domains: serde_json::from_str(row.try_get("email_domains")?)
            .map_err(|error| corrupt("domains", &error))?,
        groups_claim: row.try_get("groups_claim")?,
        group_rules: serde_json::from_str(row.try_get("group_rules")?)
            .map_err(|error| corrupt("group rules", &error))?,
        extra_scopes: serde_json::from_str(row.try_get("extra_scopes")?)
            .map_err(|error| corrupt("scopes", &error))?,
        sso_only: row.try_get::<i64, _>("sso_only")? != 0,
    })
}

/// Checks and stores an owner's settings. The provider is asked for its metadata
/// first, so a wrong issuer is caught here and not at a member's sign-in.
pub async fn put(
    store: &Store,
    (key, http): (&ServerKey, &OutboundHttp),
    owner: &Caller,
    update: &SsoSettingsUpdate,
    now_ms: i64,
) -> Result<SsoSettings, ServerError> {
    let domains = domains(&update.email_domains)?;
    let client_id = update.client_id.trim();
    if client_id.is_empty() {
        return Err(SsoError::InvalidSettings("The client id is empty.".to_owned()).into());
    }
    let groups_claim = update
        .groups_claim
        .as_deref()
        .map(str::trim)
        .filter(|claim| !claim.is_empty())
        .map(str::to_owned);
    if groups_claim.is_none() && !update.group_rules.is_empty() {
        return Err(SsoError::InvalidSettings(
            "Group rules need the name of the claim that lists the groups.".to_owned(),
        )
        .into());
    }
    if update
        .group_rules
        .iter()
        .any(|rule| rule.role == Some(Role::Owner))
    {
        return Err(SsoError::InvalidSettings(
            "An identity provider group cannot make owners; owners are chosen in Kaito.".to_owned(),
        )
        .into());
    }
    let secret = match update.client_secret.as_deref().map(str::trim) {
        Some(secret) if !secret.is_empty() => zeroize::Zeroizing::new(secret.to_owned()),
        _ => load(store, key, &owner.team_id)
            .await?
            .map(|stored| stored.client_secret)
            .ok_or_else(|| SsoError::InvalidSettings("The client secret is missing.".to_owned()))?,
    };
    IdentityProvider::discover(http, &update.issuer, client_id, &secret).await?;

    let mut tx = store.audited(owner, now_ms).await?;
    check_rule_groups(&mut tx, &update.group_rules).await?;
    let (wrapped, sealed) = key.seal(&sealing_id(&owner.team_id), secret.as_bytes())?;
    sqlx::query(
        "INSERT INTO sso_settings (team_id, issuer, client_id, wrapped_key, sealed_secret,
           email_domains, groups_claim, group_rules, extra_scopes, sso_only, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (team_id) DO UPDATE SET issuer = $2, client_id = $3, wrapped_key = $4,
           sealed_secret = $5, email_domains = $6, groups_claim = $7, group_rules = $8,
           extra_scopes = $9, sso_only = $10, updated_at = $11",
    )
    .bind(owner.team_id.as_str())
    .bind(update.issuer.trim())
    .bind(client_id)
    .bind(wrapped)
    .bind(sealed)
    .bind(json_text(&domains)?)
    .bind(groups_claim.as_deref())
    .bind(json_text(&update.group_rules)?)
    .bind(json_text(&update.extra_scopes)?)
    .bind(i64::from(update.sso_only))
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    claim_domains(&mut tx, &domains).await?;
    tx.record(
        AuditKind::SsoSettingsChanged,
        None,
        json!({
            "issuer": update.issuer.trim(),
            "client_id": client_id,
            "email_domains": domains,
            "sso_only": update.sso_only,
            "secret_replaced": update.client_secret.is_some(),
        }),
    )
    .await?;
    tx.commit().await?;
    get(store, owner).await
}

/// Every group a rule names is one of the team's.
async fn check_rule_groups(
    tx: &mut Audited<'_>,
    rules: &[SsoGroupRule],
) -> Result<(), ServerError> {
    for group_id in rules.iter().filter_map(|rule| rule.group_id.as_ref()) {
        let found = sqlx::query("SELECT 1 AS found FROM groups WHERE id = $1 AND team_id = $2")
            .bind(group_id.as_str())
            .bind(tx.team_id().as_str())
            .fetch_optional(&mut ***tx)
            .await?
            .is_some();
        if !found {
            return Err(ServerError::NotFound(format!(
                "No group {group_id} in your team."
            )));
        }
    }
    Ok(())
}

/// Makes `domains` the team's, refusing one that signs in to another team.
async fn claim_domains(tx: &mut Audited<'_>, domains: &[String]) -> Result<(), ServerError> {
    sqlx::query("DELETE FROM sso_domains WHERE team_id = $1")
        .bind(tx.team_id().as_str())
        .execute(&mut ***tx)
        .await?;
    for domain in domains {
        let taken = sqlx::query(
            "INSERT INTO sso_domains (domain, team_id) VALUES ($1, $2)
             ON CONFLICT (domain) DO NOTHING",
        )
        .bind(domain.as_str())
        .bind(tx.team_id().as_str())
        .execute(&mut ***tx)
        .await?
        .rows_affected()
            == 0;
        if taken {
            return Err(ServerError::Conflict(format!(
                "{domain} signs in to another team on this server."
            )));
        }
    }
    Ok(())
}

/// Turns SSO off for the owner's team: passwords work again for everyone.
pub async fn remove(store: &Store, owner: &Caller, now_ms: i64) -> Result<(), ServerError> {
    let mut tx = store.audited(owner, now_ms).await?;
    for statement in [
        "DELETE FROM sso_attempts WHERE team_id = $1",
        "DELETE FROM sso_domains WHERE team_id = $1",
    ] {
        sqlx::query(statement)
            .bind(owner.team_id.as_str())
            .execute(&mut **tx)
            .await?;
    }
    let removed = sqlx::query("DELETE FROM sso_settings WHERE team_id = $1")
        .bind(owner.team_id.as_str())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(SsoError::NotConfigured.into());
    }
    tx.record(AuditKind::SsoRemoved, None, json!({})).await?;
    tx.commit().await
}

/// The team's settings with the secret opened, if it has any.
pub(super) async fn load(
    store: &Store,
    key: &ServerKey,
    team_id: &TeamId,
) -> Result<Option<Stored>, ServerError> {
    let Some(row) = sqlx::query(
        "SELECT issuer, client_id, wrapped_key, sealed_secret, groups_claim, group_rules,
           extra_scopes
         FROM sso_settings WHERE team_id = $1",
    )
    .bind(team_id.as_str())
    .fetch_optional(store.pool())
    .await?
    else {
        return Ok(None);
    };
    let secret = key.open(
        &sealing_id(team_id),
        &row.try_get::<Vec<u8>, _>("wrapped_key")?,
        &row.try_get::<Vec<u8>, _>("sealed_secret")?,
    )?;
    let client_secret = zeroize::Zeroizing::new(
        String::from_utf8(secret.to_vec())
            .map_err(|_| ServerError::Corrupt("the SSO client secret".to_owned()))?,
    );
    Ok(Some(Stored {
        issuer: row.try_get("issuer")?,
        client_id: row.try_get("client_id")?,
        client_secret,
        groups_claim: row.try_get("groups_claim")?,
        group_rules: serde_json::from_str(row.try_get("group_rules")?)
            .map_err(|error| corrupt("group rules", &error))?,
        extra_scopes: serde_json::from_str(row.try_get("extra_scopes")?)
            .map_err(|error| corrupt("scopes", &error))?,
    }))
}

/// The team that `email`'s domain signs in to, and whether passwords are off.
pub(super) async fn team_of(
    store: &Store,
    email: &str,
) -> Result<Option<(TeamId, bool)>, ServerError> {
    let Ok(email) = normalise_email(email) else {
        return Ok(None);
    };
    let Some((_, domain)) = email.rsplit_once('@') else {
        return Ok(None);
    };
    let row = sqlx::query(
        "SELECT d.team_id, s.sso_only FROM sso_domains d JOIN sso_settings s ON s.team_id = d.team_id
         WHERE d.domain = $1",
    )
    .bind(domain)
    .fetch_optional(store.pool())
    .await?;
    row.map(|row| {
        Ok((
            TeamId::from_stored(row.try_get("team_id")?),
            row.try_get::<i64, _>("sso_only")? != 0,
        ))
    })
    .transpose()
}

/// Whether `team_id` has turned passwords off for members and admins.
pub async fn passwords_off(store: &Store, team_id: &TeamId) -> Result<bool, ServerError> {
    let sso_only: Option<i64> =
        sqlx::query_scalar("SELECT sso_only FROM sso_settings WHERE team_id = $1")
            .bind(team_id.as_str())
            .fetch_optional(store.pool())
            .await?;
    Ok(sso_only.unwrap_or(0) != 0)
}

/// Lower-cased, checked and without repeats; at least one.
fn domains(given: &[String]) -> Result<Vec<String>, ServerError> {
    let mut domains: Vec<String> = Vec::new();
    for domain in given {
        let domain = domain.trim().trim_start_matches('@').to_ascii_lowercase();
        let plausible = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !plausible {
            return Err(SsoError::InvalidSettings(format!(
                "{domain:?} is not an email domain (like example.com)."
            ))
            .into());
        }
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if domains.is_empty() {
        return Err(SsoError::InvalidSettings(
            "Name at least one email domain that signs in through the provider.".to_owned(),
        )
        .into());
    }
    Ok(domains)
}
