//! Token storage: add, list, search, edit, soft delete with undo, purge and order.

use std::str::FromStr;
use std::time::SystemTime;

use kaito_core::{Algorithm, OtpKind, Secret, Token};
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use super::Vault;
use super::codes::unseal;
use super::groups::{clean_group, ensure_group};
use super::schema::{corrupt, fetch_live, kind_columns, stored_from_row, token_columns};
use crate::TokenId;
use crate::audit::AuditAction;
use crate::audited::Audited;
use crate::clock::{from_unix_millis, unix_millis};
use crate::crypto::{SEAL_VERSION, VaultKeys};
use crate::error::VaultError;

/// A token as listed: everything but the seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub id: TokenId,
    pub issuer: String,
    pub account: String,
    pub kind: OtpKind,
    pub algorithm: Algorithm,
    pub digits: u32,
    pub group: Option<String>,
    /// Domain of the service ("github.com"), for the icon and the 2FA directory.
    pub service_domain: Option<String>,
    /// Icon reference chosen by the user or importer.
    pub icon: Option<String>,
    pub favorite: bool,
    pub sort_order: i64,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
}

impl StoredToken {
    /// The full token: this metadata plus its decrypted secret.
    #[must_use]
    pub fn with_secret(&self, secret: Secret) -> Token {
        Token {
            issuer: self.issuer.clone(),
            account: self.account.clone(),
            kind: self.kind,
            algorithm: self.algorithm,
            digits: self.digits,
            secret,
            group: self.group.clone(),
        }
    }

    /// "Issuer (account)", as lists show it.
    #[must_use]
    pub fn display_name(&self) -> String {
        kaito_core::token::display_name(&self.issuer, &self.account)
    }
}

/// Vault-only metadata given when adding a token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenExtras {
    pub service_domain: Option<String>,
    pub icon: Option<String>,
    pub favorite: bool,
}

/// A metadata edit; `None` leaves a field as it is. `Some(None)` clears an optional
/// field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenEdit {
    pub issuer: Option<String>,
    pub account: Option<String>,
    pub group: Option<Option<String>>,
    pub service_domain: Option<Option<String>>,
    pub icon: Option<Option<String>>,
    pub favorite: Option<bool>,
    pub kind: Option<OtpKind>,
    pub algorithm: Option<Algorithm>,
    pub digits: Option<u32>,
}

/// Returned by [`Vault::delete`]; hand it back to [`Vault::undo_delete`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UndoHandle {
    pub id: TokenId,
    pub deleted_at: SystemTime,
}

/// Case- and space-insensitive form for duplicate checks and search.
fn fold(text: &str) -> String {
    text.trim().to_lowercase()
}

/// A live token with the same issuer, account and seed fingerprint, if any.
async fn find_duplicate(
    conn: &mut SqliteConnection,
    fingerprint: &[u8; 32],
    issuer: &str,
    account: &str,
    except: Option<TokenId>,
) -> Result<Option<TokenId>, VaultError> {
    let rows = sqlx::query(
        "SELECT id, issuer, account FROM tokens WHERE fingerprint = ? AND deleted_at IS NULL",
    )
    .bind(&fingerprint[..])
    .fetch_all(&mut *conn)
    .await?;
    let (issuer, account) = (fold(issuer), fold(account));
    for row in rows {
        let id_text: String = row.try_get("id")?;
        let id = TokenId::from_str(&id_text)
            .map_err(|_| corrupt(format!("bad token id {id_text:?}")))?;
        if Some(id) == except {
            continue;
        }
        if fold(&row.try_get::<String, _>("issuer")?) == issuer
            && fold(&row.try_get::<String, _>("account")?) == account
        {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// The outcome of inserting one token inside a larger transaction.
pub(crate) enum Inserted {
    New(TokenId),
    Duplicate(TokenId),
}

impl Vault {
    /// The live token `token` duplicates, if any.
    pub(crate) async fn duplicate_of(
        &self,
        conn: &mut SqliteConnection,
        keys: &VaultKeys,
        token: &Token,
    ) -> Result<Option<TokenId>, VaultError> {
        let fingerprint = keys.fingerprint(token.secret.expose());
        find_duplicate(conn, &fingerprint, &token.issuer, &token.account, None).await
    }

    /// Inserts inside the caller's transaction; duplicates are reported, not added.
    pub(crate) async fn insert_token(
        &self,
        tx: &mut Audited<'_>,
        keys: &VaultKeys,
        token: &Token,
        extras: &TokenExtras,
    ) -> Result<Inserted, VaultError> {
        let fingerprint = keys.fingerprint(token.secret.expose());
        if let Some(existing) =
            find_duplicate(tx, &fingerprint, &token.issuer, &token.account, None).await?
        {
            return Ok(Inserted::Duplicate(existing));
        }
        let id = TokenId(Uuid::new_v4());
        let (kind, period, counter) = kind_columns(token.kind)?;
        let (nonce, sealed) = keys.seal(&id.0, token.secret.expose())?;
        let group = clean_group(token.group.clone());
        ensure_group(tx, group.as_deref()).await?;
        let millis = unix_millis(tx.now());
        sqlx::query(
            "INSERT INTO tokens (id, issuer, account, kind, algorithm, digits, period, counter, service_domain, icon,
                                 group_name, favorite, sort_order, created_at, updated_at, deleted_at, seal_version,
                                 seed_nonce, seed_sealed, fingerprint)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(sort_order), -1) + 1 FROM tokens),
                     ?, ?, NULL, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(token.issuer.trim())
        .bind(token.account.trim())
        .bind(kind)
        .bind(token.algorithm.name())
        .bind(i64::from(token.digits))
        .bind(period)
        .bind(counter)
        .bind(extras.service_domain.as_deref())
        .bind(extras.icon.as_deref())
        .bind(group.as_deref())
        .bind(i64::from(extras.favorite))
        .bind(millis)
        .bind(millis)
        .bind(i64::from(SEAL_VERSION))
        .bind(&nonce[..])
        .bind(&sealed)
        .bind(&fingerprint[..])
        .execute(&mut **tx)
        .await?;
        tx.record(AuditAction::Add, Some(id), None).await?;
        Ok(Inserted::New(id))
    }

    /// Adds a token. The same issuer + account + secret already present (ignoring
    /// case and surrounding spaces) is [`VaultError::Duplicate`].
    pub async fn add(&self, token: &Token, extras: TokenExtras) -> Result<StoredToken, VaultError> {
        let keys = self.keys()?;
        let mut tx = self.audited(self.clock.now()).await?;
        match self.insert_token(&mut tx, &keys, token, &extras).await? {
            Inserted::Duplicate(existing) => Err(VaultError::Duplicate { existing }),
            Inserted::New(id) => {
                let stored = fetch_live(&mut tx, id).await?;
                tx.commit().await?;
                Ok(stored)
            }
        }
    }

    /// One live token's metadata.
    pub async fn get(&self, id: TokenId) -> Result<StoredToken, VaultError> {
        self.keys()?;
        let mut conn = self.pool.acquire().await?;
        fetch_live(&mut conn, id).await
    }

    /// Live tokens: favourites first, then by sort order.
    pub async fn list(&self) -> Result<Vec<StoredToken>, VaultError> {
        self.keys()?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE deleted_at IS NULL ORDER BY favorite DESC, sort_order, created_at"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_from_row).collect()
    }

    /// Soft-deleted tokens still restorable, newest deletion first.
    pub async fn list_deleted(&self) -> Result<Vec<(StoredToken, UndoHandle)>, VaultError> {
        self.keys()?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            ", deleted_at FROM tokens WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let token = stored_from_row(row)?;
                let handle = UndoHandle {
                    id: token.id,
                    deleted_at: from_unix_millis(row.try_get("deleted_at")?),
                };
                Ok((token, handle))
            })
            .collect()
    }

    /// Live tokens whose issuer, account, group or service domain contains `query`
    /// (case-insensitive, Unicode-aware), in list order. An empty query lists all.
    pub async fn search(&self, query: &str) -> Result<Vec<StoredToken>, VaultError> {
        let needle = fold(query);
        let mut tokens = self.list().await?;
        if needle.is_empty() {
            return Ok(tokens);
        }
        tokens.retain(|token| {
            [
                Some(&token.issuer),
                Some(&token.account),
                token.group.as_ref(),
                token.service_domain.as_ref(),
            ]
            .into_iter()
            .flatten()
            .any(|field| field.to_lowercase().contains(&needle))
        });
        Ok(tokens)
    }

    /// Edits metadata. Changing kind, algorithm or digits re-validates the token
    /// as `kaito_core::Token::new` would.
    pub async fn edit(&self, id: TokenId, edit: TokenEdit) -> Result<StoredToken, VaultError> {
        let keys = self.keys()?;
        let now = self.clock.now();
        let mut tx = self.audited(now).await?;
        let current = fetch_live(&mut tx, id).await?;
        let issuer = edit
            .issuer
            .map_or(current.issuer.clone(), |s| s.trim().to_owned());
        let account = edit
            .account
            .map_or(current.account.clone(), |s| s.trim().to_owned());
        let kind = edit.kind.unwrap_or(current.kind);
        let algorithm = edit.algorithm.unwrap_or(current.algorithm);
        let digits = edit.digits.unwrap_or(current.digits);
        if (kind, algorithm, digits) != (current.kind, current.algorithm, current.digits) {
            let secret = unseal(&mut tx, &keys, id).await?;
            Token::new(
                issuer.clone(),
                account.clone(),
                kind,
                algorithm,
                digits,
                secret,
            )?;
        }
        if fold(&issuer) != fold(&current.issuer) || fold(&account) != fold(&current.account) {
            let fingerprint: Vec<u8> =
                sqlx::query_scalar("SELECT fingerprint FROM tokens WHERE id = ?")
                    .bind(id.to_string())
                    .fetch_one(&mut *tx)
                    .await?;
            let fingerprint: [u8; 32] = fingerprint
                .try_into()
                .map_err(|_| corrupt("bad fingerprint"))?;
            if let Some(existing) =
                find_duplicate(&mut tx, &fingerprint, &issuer, &account, Some(id)).await?
            {
                return Err(VaultError::Duplicate { existing });
            }
        }
        let group = match edit.group {
            Some(group) => clean_group(group),
            None => current.group.clone(),
        };
        ensure_group(&mut tx, group.as_deref()).await?;
        let (kind_name, period, counter) = kind_columns(kind)?;
        sqlx::query(
            "UPDATE tokens SET issuer = ?, account = ?, kind = ?, algorithm = ?, digits = ?, period = ?, counter = ?,
                               group_name = ?, service_domain = ?, icon = ?, favorite = ?, updated_at = ?
             WHERE id = ?",
        )
        .bind(&issuer)
        .bind(&account)
        .bind(kind_name)
        .bind(algorithm.name())
        .bind(i64::from(digits))
        .bind(period)
        .bind(counter)
        .bind(group.as_deref())
        .bind(edit.service_domain.unwrap_or(current.service_domain).as_deref())
        .bind(edit.icon.unwrap_or(current.icon).as_deref())
        .bind(i64::from(edit.favorite.unwrap_or(current.favorite)))
        .bind(unix_millis(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.record(AuditAction::Edit, Some(id), None).await?;
        let stored = fetch_live(&mut tx, id).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Replaces the seed (re-keyed account), sealed under a fresh nonce.
    pub async fn replace_secret(
        &self,
        id: TokenId,
        secret: &Secret,
    ) -> Result<StoredToken, VaultError> {
        let keys = self.keys()?;
        let now = self.clock.now();
        let mut tx = self.audited(now).await?;
        let current = fetch_live(&mut tx, id).await?;
        let fingerprint = keys.fingerprint(secret.expose());
        if let Some(existing) = find_duplicate(
            &mut tx,
            &fingerprint,
            &current.issuer,
            &current.account,
            Some(id),
        )
        .await?
        {
            return Err(VaultError::Duplicate { existing });
        }
        let (nonce, sealed) = keys.seal(&id.0, secret.expose())?;
        sqlx::query(
            "UPDATE tokens SET seal_version = ?, seed_nonce = ?, seed_sealed = ?, fingerprint = ?, updated_at = ?
             WHERE id = ?",
        )
        .bind(i64::from(SEAL_VERSION))
        .bind(&nonce[..])
        .bind(&sealed)
        .bind(&fingerprint[..])
        .bind(unix_millis(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.record(AuditAction::SeedReplace, Some(id), None).await?;
        let stored = fetch_live(&mut tx, id).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Soft-deletes a token; it disappears from lists and can be restored with the
    /// handle until [`Vault::purge_deleted`] removes it.
    pub async fn delete(&self, id: TokenId) -> Result<UndoHandle, VaultError> {
        self.keys()?;
        let now = self.clock.now();
        let millis = unix_millis(now);
        let mut tx = self.audited(now).await?;
        let done = sqlx::query(
            "UPDATE tokens SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
        )
        .bind(millis)
        .bind(millis)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(VaultError::NotFound { id });
        }
        tx.record(AuditAction::Delete, Some(id), None).await?;
        tx.commit().await?;
        Ok(UndoHandle {
            id,
            deleted_at: from_unix_millis(millis),
        })
    }

    /// Restores a soft-deleted token to its old place.
    pub async fn undo_delete(&self, handle: UndoHandle) -> Result<StoredToken, VaultError> {
        self.keys()?;
        let now = self.clock.now();
        let mut tx = self.audited(now).await?;
        let done = sqlx::query(
            "UPDATE tokens SET deleted_at = NULL, updated_at = ? WHERE id = ? AND deleted_at = ?",
        )
        .bind(unix_millis(now))
        .bind(handle.id.to_string())
        .bind(unix_millis(handle.deleted_at))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(VaultError::UndoExpired { id: handle.id });
        }
        tx.record(AuditAction::UndoDelete, Some(handle.id), None)
            .await?;
        let stored = fetch_live(&mut tx, handle.id).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Permanently removes tokens deleted before `older_than`; returns how many.
    pub async fn purge_deleted(&self, older_than: SystemTime) -> Result<u64, VaultError> {
        self.keys()?;
        let now = self.clock.now();
        let mut tx = self.audited(now).await?;
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM tokens WHERE deleted_at IS NOT NULL AND deleted_at < ? ORDER BY deleted_at")
                .bind(unix_millis(older_than))
                .fetch_all(&mut *tx)
                .await?;
        if ids.is_empty() {
            // Nothing purged, nothing to record: the read-only transaction rolls back.
            return Ok(0);
        }
        for id_text in &ids {
            let id = TokenId::from_str(id_text)
                .map_err(|_| corrupt(format!("bad token id {id_text:?}")))?;
            sqlx::query("DELETE FROM tokens WHERE id = ?")
                .bind(id_text)
                .execute(&mut *tx)
                .await?;
            tx.record(AuditAction::Purge, Some(id), None).await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// Moves a token to `position` (0-based, clamped) in the sort order, shifting
    /// the others; the order is rewritten densely so it stays stable.
    pub async fn move_to(&self, id: TokenId, position: usize) -> Result<(), VaultError> {
        self.keys()?;
        let now = self.clock.now();
        let mut tx = self.audited(now).await?;
        let mut order: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM tokens WHERE deleted_at IS NULL ORDER BY sort_order, created_at",
        )
        .fetch_all(&mut *tx)
        .await?;
        let id_text = id.to_string();
        let from = order
            .iter()
            .position(|candidate| *candidate == id_text)
            .ok_or(VaultError::NotFound { id })?;
        let moved = order.remove(from);
        order.insert(position.min(order.len()), moved);
        for (index, token) in order.iter().enumerate() {
            sqlx::query("UPDATE tokens SET sort_order = ? WHERE id = ? AND sort_order != ?")
                .bind(i64::try_from(index).unwrap_or(i64::MAX))
                .bind(token)
                .bind(i64::try_from(index).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await?;
        }
        tx.record(
            AuditAction::Reorder,
            Some(id),
            Some(format!("position {position}")),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
