//! Server-managed shared tokens. Admins add a token (its seed sealed under the
//! server key) and grant it to users or groups: a **code** grant gets codes the
//! server computes — the seed never leaves the server for them — and a **seed**
//! grant may fetch the seed itself, for rotation. Every code served, seed fetched
//! and grant changed is in the team's audit log, committed with the action.

use kaito_api::{
    AuditKind, CodesView, GrantMode, GrantView, GroupView, NewGrant, SeedView, SharedTokenView,
};
use kaito_core::otp::CodeGenerator;
use kaito_core::token::OtpKind;
use serde_json::json;
use sqlx::Row as _;

use crate::accounts::{Caller, GrantSubject};
use crate::custody::ServerKey;
use crate::error::ServerError;
use crate::ids::{GrantId, GroupId, TeamId, TokenId, UserId};
use crate::store::Store;

fn kind_name(kind: &OtpKind) -> Result<&'static str, ServerError> {
    match kind {
        OtpKind::Totp { .. } => Ok("totp"),
        OtpKind::Steam { .. } => Ok("steam"),
        // A shared counter would need every use to go through the server in order.
        OtpKind::Hotp { .. } => Err(ServerError::BadRequest(
            "Counter-based (HOTP) tokens cannot be shared; only time-based ones.".to_owned(),
        )),
    }
}

fn parse_uri(uri: &str) -> Result<kaito_core::token::Token, ServerError> {
    kaito_core::uri::parse(uri.trim()).map_err(|error| {
        ServerError::BadRequest(format!("This is not a usable otpauth:// link: {error}"))
    })
}

fn not_found(token_id: &str) -> ServerError {
    ServerError::NotFound(format!("No shared token {token_id} in your team."))
}

/// Adds a token to the caller's team; the caller gets a seed grant to it.
pub async fn add_token(
    store: &Store,
    key: &ServerKey,
    admin: &Caller,
    uri: &str,
    now_ms: i64,
) -> Result<TokenId, ServerError> {
    let token = parse_uri(uri)?;
    let kind = kind_name(&token.kind)?;
    let token_id = TokenId::generate()?;
    let canonical_uri = kaito_core::uri::to_uri(&token);
    let (wrapped, sealed) = key.seal(token_id.as_str(), canonical_uri.as_bytes())?;
    let mut tx = store.audited(admin, now_ms).await?;
    sqlx::query(
        "INSERT INTO shared_tokens
           (id, team_id, issuer, account, kind, wrapped_key, sealed_uri, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(token_id.as_str())
    .bind(admin.team_id.as_str())
    .bind(token.issuer.as_str())
    .bind(token.account.as_str())
    .bind(kind)
    .bind(wrapped)
    .bind(sealed)
    .bind(admin.user_id.as_str())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    tx.record(
        AuditKind::TokenCreated,
        Some(token_id.as_str()),
        json!({ "issuer": token.issuer, "account": token.account }),
    )
    .await?;
    let grant_id = insert_grant(
        &mut tx,
        &token_id,
        &GrantSubject::User(admin.user_id.clone()),
        GrantMode::Seed,
        None,
        &admin.user_id,
        now_ms,
    )
    .await?;
    tx.record(
        AuditKind::GrantCreated,
        Some(token_id.as_str()),
        json!({ "grant_id": grant_id.as_str(), "user_id": admin.user_id.as_str(), "mode": "seed" }),
    )
    .await?;
    tx.commit().await?;
    Ok(token_id)
}

#[allow(clippy::too_many_arguments)]
async fn insert_grant(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    token_id: &TokenId,
    subject: &GrantSubject,
    mode: GrantMode,
    expires_at: Option<i64>,
    created_by: &UserId,
    now_ms: i64,
) -> Result<GrantId, ServerError> {
    let grant_id = GrantId::generate()?;
    sqlx::query(
        "INSERT INTO grants (id, token_id, user_id, group_id, mode, expires_at, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(grant_id.as_str())
    .bind(token_id.as_str())
    .bind(subject.user_id())
    .bind(subject.group_id())
    .bind(mode.as_str())
    .bind(expires_at)
    .bind(created_by.as_str())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(grant_id)
}

/// The caller's best live grant to `token_id` (directly or through a group).
pub async fn access(
    store: &Store,
    caller: &Caller,
    token_id: &str,
    now_ms: i64,
) -> Result<Option<GrantMode>, ServerError> {
    let rows = sqlx::query(
        "SELECT g.mode FROM grants g JOIN shared_tokens t ON t.id = g.token_id
         WHERE g.token_id = $1 AND t.team_id = $2
           AND (g.expires_at IS NULL OR g.expires_at > $3)
           AND (g.user_id = $4
                OR g.group_id IN (SELECT group_id FROM group_members WHERE user_id = $4))",
    )
    .bind(token_id)
    .bind(caller.team_id.as_str())
    .bind(now_ms)
    .bind(caller.user_id.as_str())
    .fetch_all(store.pool())
    .await?;
    let mut best = None;
    for row in &rows {
        let mode = GrantMode::parse(&row.try_get::<String, _>("mode")?)
            .ok_or_else(|| ServerError::Corrupt("unknown grant mode".to_owned()))?;
        best = best.max(Some(mode));
    }
    Ok(best)
}

/// The team's tokens the caller may use (admins and owners: all of them), each
/// with the caller's access.
pub async fn list_tokens(
    store: &Store,
    caller: &Caller,
    now_ms: i64,
) -> Result<Vec<SharedTokenView>, ServerError> {
    let rows = sqlx::query(
        "SELECT id, issuer, account, kind, rotated_at FROM shared_tokens WHERE team_id = $1 ORDER BY issuer, account, id",
    )
    .bind(caller.team_id.as_str())
    .fetch_all(store.pool())
    .await?;
    let manages = caller.role >= kaito_api::Role::Admin;
    let mut views = Vec::new();
    for row in &rows {
        let token_id: String = row.try_get("id")?;
        let access = access(store, caller, &token_id, now_ms).await?;
        if access.is_some() || manages {
            views.push(SharedTokenView {
                token_id,
                issuer: row.try_get("issuer")?,
                account: row.try_get("account")?,
                kind: row.try_get("kind")?,
                access,
                rotated_at: row.try_get("rotated_at")?,
            });
        }
    }
    Ok(views)
}

/// The token's otpauth URI, opened; only for callers already checked.
async fn open_uri(
    store: &Store,
    key: &ServerKey,
    team_id: &TeamId,
    token_id: &str,
) -> Result<zeroize::Zeroizing<Vec<u8>>, ServerError> {
    let row = sqlx::query(
        "SELECT wrapped_key, sealed_uri FROM shared_tokens WHERE id = $1 AND team_id = $2",
    )
    .bind(token_id)
    .bind(team_id.as_str())
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| not_found(token_id))?;
    let wrapped: Vec<u8> = row.try_get("wrapped_key")?;
    let sealed: Vec<u8> = row.try_get("sealed_uri")?;
    key.open(token_id, &wrapped, &sealed)
}

/// An event about a read: the read itself changes nothing, so the transaction
/// holds the event alone.
async fn record(
    store: &Store,
    caller: &Caller,
    kind: AuditKind,
    token_id: &str,
    details: serde_json::Value,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(caller, now_ms).await?;
    tx.record(kind, Some(token_id), details).await?;
    tx.commit().await
}

/// The current and next code, computed here, for any grant. Audited before the
/// codes are returned: a code nobody could account for is never shown.
pub async fn codes(
    store: &Store,
    key: &ServerKey,
    caller: &Caller,
    token_id: &str,
    now_ms: i64,
) -> Result<CodesView, ServerError> {
    let mode = access(store, caller, token_id, now_ms)
        .await?
        .ok_or_else(|| no_grant(token_id))?;
    let uri = open_uri(store, key, &caller.team_id, token_id).await?;
    let token = parse_uri(&String::from_utf8_lossy(&uri))?;
    let unix_secs = u64::try_from(now_ms / 1000).unwrap_or(0);
    let window = CodeGenerator::new(&token)
        .window(unix_secs)
        .ok_or_else(|| ServerError::Corrupt(format!("token {token_id} is not time-based")))?;
    record(
        store,
        caller,
        AuditKind::CodeServed,
        token_id,
        json!({ "grant": mode.as_str() }),
        now_ms,
    )
    .await?;
    Ok(CodesView {
        current: window.current.as_str().to_owned(),
        next: window.next.as_str().to_owned(),
        remaining_secs: window.remaining_secs,
        period: window.period,
        server_time: unix_secs,
    })
}

fn no_grant(token_id: &str) -> ServerError {
    ServerError::NoGrant(format!("You have no grant to token {token_id}."))
}

/// The seed, as an otpauth URI: seed grants only. Audited before it is returned.
pub async fn seed(
    store: &Store,
    key: &ServerKey,
    caller: &Caller,
    token_id: &str,
    now_ms: i64,
) -> Result<SeedView, ServerError> {
    match access(store, caller, token_id, now_ms).await? {
        Some(GrantMode::Seed) => {}
        Some(GrantMode::Code) => {
            record(
                store,
                caller,
                AuditKind::SeedRefused,
                token_id,
                json!({ "grant": "code" }),
                now_ms,
            )
            .await?;
            return Err(ServerError::CodeOnly);
        }
        None => return Err(no_grant(token_id)),
    }
    let uri = open_uri(store, key, &caller.team_id, token_id).await?;
    record(
        store,
        caller,
        AuditKind::SeedFetched,
        token_id,
        json!({}),
        now_ms,
    )
    .await?;
    Ok(SeedView {
        uri: String::from_utf8_lossy(&uri).into_owned(),
    })
}

/// Replaces a token's seed (the service's 2FA was reset); existing grants keep
/// applying to the new seed.
pub async fn rotate(
    store: &Store,
    key: &ServerKey,
    admin: &Caller,
    token_id: &str,
    uri: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let token = parse_uri(uri)?;
    kind_name(&token.kind)?;
    let (wrapped, sealed) = key.seal(token_id, kaito_core::uri::to_uri(&token).as_bytes())?;
    let mut tx = store.audited(admin, now_ms).await?;
    let updated = sqlx::query(
        "UPDATE shared_tokens SET wrapped_key = $1, sealed_uri = $2, issuer = $3, account = $4, rotated_at = $5
         WHERE id = $6 AND team_id = $7",
    )
    .bind(wrapped)
    .bind(sealed)
    .bind(token.issuer.as_str())
    .bind(token.account.as_str())
    .bind(now_ms)
    .bind(token_id)
    .bind(admin.team_id.as_str())
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(not_found(token_id));
    }
    let notified = notify_seed_holders(&mut tx, admin, token_id, &token, now_ms).await?;
    tx.record(
        AuditKind::TokenRotated,
        Some(token_id),
        json!({ "notified": notified }),
    )
    .await?;
    tx.commit().await
}

/// Tells everyone with a live full-seed grant (but the admin who rotated) that
/// their copy of the seed is now wrong. Returns whom it told.
async fn notify_seed_holders(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    admin: &Caller,
    token_id: &str,
    token: &kaito_core::token::Token,
    now_ms: i64,
) -> Result<Vec<String>, ServerError> {
    let holders = sqlx::query(
        "SELECT id FROM users
         WHERE team_id = $1 AND disabled_at IS NULL AND id <> $2 AND id IN (
           SELECT g.user_id FROM grants g
           WHERE g.token_id = $3 AND g.mode = 'seed' AND (g.expires_at IS NULL OR g.expires_at > $4)
           UNION
           SELECT m.user_id FROM grants g JOIN group_members m ON m.group_id = g.group_id
           WHERE g.token_id = $3 AND g.mode = 'seed' AND (g.expires_at IS NULL OR g.expires_at > $4))
         ORDER BY id",
    )
    .bind(admin.team_id.as_str())
    .bind(admin.user_id.as_str())
    .bind(token_id)
    .bind(now_ms)
    .fetch_all(&mut **tx)
    .await?;
    let message = format!(
        "The seed of {} ({}) was rotated. Fetch the new seed and replace your copy; codes from the old one no longer work.",
        token.issuer, token.account
    );
    let mut notified = Vec::new();
    for row in &holders {
        let user_id: String = row.try_get("id")?;
        sqlx::query(
            "INSERT INTO notifications (id, team_id, user_id, kind, subject, message, created_at)
             VALUES ($1, $2, $3, 'token.rotated', $4, $5, $6)",
        )
        .bind(crate::ids::NotificationId::generate()?.as_str())
        .bind(admin.team_id.as_str())
        .bind(user_id.as_str())
        .bind(token_id)
        .bind(message.as_str())
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
        notified.push(user_id);
    }
    Ok(notified)
}

/// The caller's notifications, newest first (unread ones only if asked).
pub async fn notifications(
    store: &Store,
    caller: &Caller,
    unread_only: bool,
) -> Result<Vec<kaito_api::NotificationView>, ServerError> {
    let rows = sqlx::query(
        "SELECT id, kind, subject, message, created_at, read_at FROM notifications
         WHERE user_id = $1 AND ($2 = 0 OR read_at IS NULL)
         ORDER BY created_at DESC, id LIMIT 200",
    )
    .bind(caller.user_id.as_str())
    .bind(i64::from(unread_only))
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(kaito_api::NotificationView {
                id: row.try_get("id")?,
                kind: row.try_get("kind")?,
                subject: row.try_get("subject")?,
                message: row.try_get("message")?,
                created_at: row.try_get("created_at")?,
                read_at: row.try_get("read_at")?,
            })
        })
        .collect()
}

pub async fn mark_read(
    store: &Store,
    caller: &Caller,
    notification_id: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let updated = sqlx::query(
        "UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND user_id = $3",
    )
    .bind(now_ms)
    .bind(notification_id)
    .bind(caller.user_id.as_str())
    .execute(store.pool())
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(ServerError::NotFound(format!(
            "You have no notification {notification_id}."
        )));
    }
    Ok(())
}

/// Grants a token of the admin's team to a user or group of that team.
pub async fn grant(
    store: &Store,
    admin: &Caller,
    token_id: &str,
    request: &NewGrant,
    now_ms: i64,
) -> Result<GrantId, ServerError> {
    let subject = GrantSubject::from_ids(request.user_id.as_deref(), request.group_id.as_deref())?;
    let mut tx = store.audited(admin, now_ms).await?;
    let token_exists =
        sqlx::query("SELECT 1 AS found FROM shared_tokens WHERE id = $1 AND team_id = $2")
            .bind(token_id)
            .bind(admin.team_id.as_str())
            .fetch_optional(&mut **tx)
            .await?
            .is_some();
    if !token_exists {
        return Err(not_found(token_id));
    }
    subject.check_in_team(&mut tx, &admin.team_id).await?;
    let token = TokenId::from_stored(token_id.to_owned());
    let grant_id = insert_grant(
        &mut tx,
        &token,
        &subject,
        request.mode,
        request.expires_at,
        &admin.user_id,
        now_ms,
    )
    .await?;
    tx.record(
        AuditKind::GrantCreated,
        Some(token_id),
        json!({
            "grant_id": grant_id.as_str(),
            "user_id": subject.user_id(),
            "group_id": subject.group_id(),
            "mode": request.mode.as_str(),
            "expires_at": request.expires_at,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(grant_id)
}

/// Withdraws a grant; it stops applying at once.
pub async fn revoke_grant(
    store: &Store,
    admin: &Caller,
    grant_id: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let row = sqlx::query(
        "SELECT g.token_id FROM grants g JOIN shared_tokens t ON t.id = g.token_id WHERE g.id = $1 AND t.team_id = $2",
    )
    .bind(grant_id)
    .bind(admin.team_id.as_str())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| ServerError::NotFound(format!("No grant {grant_id} in your team.")))?;
    let token_id: String = row.try_get("token_id")?;
    sqlx::query("DELETE FROM grants WHERE id = $1")
        .bind(grant_id)
        .execute(&mut **tx)
        .await?;
    tx.record(
        AuditKind::GrantRevoked,
        Some(token_id.as_str()),
        json!({ "grant_id": grant_id }),
    )
    .await?;
    tx.commit().await
}

/// The live grants to a token of the admin's team, oldest first. Revoking deletes
/// a grant, so only expired ones need leaving out.
pub async fn grants(
    store: &Store,
    team_id: &TeamId,
    token_id: &str,
    now_ms: i64,
) -> Result<Vec<GrantView>, ServerError> {
    let token_exists =
        sqlx::query("SELECT 1 AS found FROM shared_tokens WHERE id = $1 AND team_id = $2")
            .bind(token_id)
            .bind(team_id.as_str())
            .fetch_optional(store.pool())
            .await?
            .is_some();
    if !token_exists {
        return Err(not_found(token_id));
    }
    let rows = sqlx::query(
        "SELECT id, user_id, group_id, mode, expires_at, created_at FROM grants
         WHERE token_id = $1 AND (expires_at IS NULL OR expires_at > $2)
         ORDER BY created_at, id",
    )
    .bind(token_id)
    .bind(now_ms)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let mode: String = row.try_get("mode")?;
            Ok(GrantView {
                grant_id: row.try_get("id")?,
                user_id: row.try_get("user_id")?,
                group_id: row.try_get("group_id")?,
                mode: GrantMode::parse(&mode)
                    .ok_or_else(|| ServerError::Corrupt(format!("unknown grant mode {mode}")))?,
                expires_at: row.try_get("expires_at")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}

/// A new group in the admin's team.
pub async fn create_group(
    store: &Store,
    admin: &Caller,
    name: &str,
    now_ms: i64,
) -> Result<GroupId, ServerError> {
    let group_id = GroupId::generate()?;
    let mut tx = store.audited(admin, now_ms).await?;
    let taken = sqlx::query("SELECT 1 AS found FROM groups WHERE team_id = $1 AND name = $2")
        .bind(admin.team_id.as_str())
        .bind(name.trim())
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    if taken {
        return Err(ServerError::Conflict(format!(
            "Your team has a group named “{}” already.",
            name.trim()
        )));
    }
    sqlx::query("INSERT INTO groups (id, team_id, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(group_id.as_str())
        .bind(admin.team_id.as_str())
        .bind(name.trim())
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    tx.record(
        AuditKind::GroupCreated,
        Some(group_id.as_str()),
        json!({ "name": name.trim() }),
    )
    .await?;
    tx.commit().await?;
    Ok(group_id)
}

/// Adds a member of the admin's team to one of its groups.
pub async fn add_to_group(
    store: &Store,
    admin: &Caller,
    group_id: &str,
    user_id: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let both = sqlx::query(
        "SELECT 1 AS found FROM groups g, users u
         WHERE g.id = $1 AND u.id = $2 AND g.team_id = $3 AND u.team_id = $3",
    )
    .bind(group_id)
    .bind(user_id)
    .bind(admin.team_id.as_str())
    .fetch_optional(&mut **tx)
    .await?
    .is_some();
    if !both {
        return Err(ServerError::NotFound(format!(
            "No group {group_id} with member {user_id} possible in your team."
        )));
    }
    sqlx::query(
        "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(group_id)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    tx.record(
        AuditKind::GroupMemberAdded,
        Some(group_id),
        json!({ "user_id": user_id }),
    )
    .await?;
    tx.commit().await
}

/// Takes a member out of a group of the admin's team: the group's grants stop
/// applying to them at once.
pub async fn remove_from_group(
    store: &Store,
    admin: &Caller,
    group_id: &str,
    user_id: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let group_in_team = sqlx::query("SELECT 1 AS found FROM groups WHERE id = $1 AND team_id = $2")
        .bind(group_id)
        .bind(admin.team_id.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    if !group_in_team {
        return Err(ServerError::NotFound(format!(
            "No group {group_id} in your team."
        )));
    }
    let removed = sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
        .bind(group_id)
        .bind(user_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(ServerError::NotFound(format!(
            "{user_id} is not a member of group {group_id}."
        )));
    }
    tx.record(
        AuditKind::GroupMemberRemoved,
        Some(group_id),
        json!({ "user_id": user_id }),
    )
    .await?;
    tx.commit().await
}

/// The groups of `team_id` with their members, by name (sorted here, so both
/// backends agree whatever PostgreSQL's collation).
pub async fn groups(store: &Store, team_id: &TeamId) -> Result<Vec<GroupView>, ServerError> {
    // One row per membership, and one for each group without members.
    let rows = sqlx::query(
        "SELECT g.id, g.name, m.user_id FROM groups g
         LEFT JOIN group_members m ON m.group_id = g.id
         WHERE g.team_id = $1",
    )
    .bind(team_id.as_str())
    .fetch_all(store.pool())
    .await?;
    let mut by_id: std::collections::HashMap<String, GroupView> = std::collections::HashMap::new();
    for row in &rows {
        let group_id: String = row.try_get("id")?;
        let name: String = row.try_get("name")?;
        let group = by_id.entry(group_id.clone()).or_insert_with(|| GroupView {
            group_id,
            name,
            member_ids: Vec::new(),
        });
        if let Some(user_id) = row.try_get::<Option<String>, _>("user_id")? {
            group.member_ids.push(user_id);
        }
    }
    let mut views: Vec<GroupView> = by_id.into_values().collect();
    for view in &mut views {
        view.member_ids.sort();
    }
    views.sort_by(|a, b| (&a.name, &a.group_id).cmp(&(&b.name, &b.group_id)));
    Ok(views)
}
