//! Reading seeds to make codes: unaudited for the list, audited when the user
//! views, copies or reveals, and the HOTP counter that moves on each use.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use kaito_core::{CodeGenerator, OtpKind, Secret};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::Vault;
use super::schema::{corrupt, fetch_live};
use crate::TokenId;
use crate::audit::{AuditAction, AuditEvent};
use crate::clock::unix_millis;
use crate::crypto::VaultKeys;
use crate::error::VaultError;

/// Why a code's secret is being read, for the audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeUse {
    View,
    Copy,
}

impl CodeUse {
    fn action(self) -> AuditAction {
        match self {
            Self::View => AuditAction::CodeView,
            Self::Copy => AuditAction::CodeCopy,
        }
    }
}

/// A code just taken for the clipboard, and how long it stays valid (`None`: HOTP,
/// valid until used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedCode {
    pub code: String,
    pub valid_for: Option<Duration>,
}

impl Vault {
    /// The code to put on the clipboard, computed now (never a stale one from the
    /// list). One transaction reads the seed, records the copy and, for HOTP, moves
    /// the counter on with its own event: a copy is never audited without its code
    /// being handed out, nor a counter value handed out twice.
    pub async fn code_for_copy(&self, id: TokenId) -> Result<CopiedCode, VaultError> {
        let keys = self.keys()?;
        let now = self.clock.now();
        let mut tx = self.audited(now).await?;
        let stored = fetch_live(&mut tx, id).await?;
        let generator = CodeGenerator::new(&stored.with_secret(unseal(&mut tx, &keys, id).await?));
        tx.record(AuditAction::CodeCopy, Some(id), None).await?;
        let copied = if let OtpKind::Hotp { .. } = stored.kind {
            let counter = advance_counter(&mut tx, id, now).await?;
            tx.record(AuditAction::HotpAdvance, Some(id), None).await?;
            CopiedCode {
                code: generator.hotp(counter).to_string(),
                valid_for: None,
            }
        } else {
            let unix_secs = kaito_core::clock::unix_secs(now);
            CopiedCode {
                code: generator.code_at(unix_secs).to_string(),
                valid_for: generator
                    .window(unix_secs)
                    .map(|window| Duration::from_secs(u64::from(window.remaining_secs))),
            }
        };
        tx.commit().await?;
        Ok(copied)
    }

    /// The seed for generating codes without an audit event (e.g. refreshing the
    /// list). Use [`Vault::secret_for_code`] when the user views or copies a code.
    pub async fn secret(&self, id: TokenId) -> Result<Secret, VaultError> {
        let keys = self.keys()?;
        let mut conn = self.pool.acquire().await?;
        unseal(&mut conn, &keys, id).await
    }

    /// Every live token's seed in one query, for rendering the whole code list.
    /// A damaged token yields its own [`VaultError::Corrupt`] and the rest still
    /// decrypt.
    pub async fn secrets(&self) -> Result<Vec<(TokenId, Result<Secret, VaultError>)>, VaultError> {
        let keys = self.keys()?;
        let rows = sqlx::query(
            "SELECT id, seal_version, seed_nonce, seed_sealed FROM tokens WHERE deleted_at IS NULL
             ORDER BY favorite DESC, sort_order, created_at",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id_text: String = row.try_get("id")?;
                let id = TokenId::from_str(&id_text)
                    .map_err(|_| corrupt(format!("bad token id {id_text:?}")))?;
                Ok((id, open_row(&keys, id, row)))
            })
            .collect()
    }

    /// The seed for a code the user is viewing or copying, with the audit event
    /// written in the same transaction.
    pub async fn secret_for_code(&self, id: TokenId, used: CodeUse) -> Result<Secret, VaultError> {
        self.secret_with_event(id, used.action()).await
    }

    /// The seed for showing it to the user (QR/base32 reveal); audited.
    pub async fn reveal_secret(&self, id: TokenId) -> Result<Secret, VaultError> {
        self.secret_with_event(id, AuditAction::SeedReveal).await
    }

    async fn secret_with_event(
        &self,
        id: TokenId,
        action: AuditAction,
    ) -> Result<Secret, VaultError> {
        let keys = self.keys()?;
        let mut tx = self.audited(self.clock.now()).await?;
        let secret = unseal(&mut tx, &keys, id).await?;
        tx.record(action, Some(id), None).await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Records a code view or copy when the caller already holds the secret.
    pub async fn record_code_use(
        &self,
        id: TokenId,
        used: CodeUse,
    ) -> Result<AuditEvent, VaultError> {
        self.keys()?;
        let mut tx = self.audited(self.clock.now()).await?;
        fetch_live(&mut tx, id).await?;
        let event = tx.record(used.action(), Some(id), None).await?;
        tx.commit().await?;
        Ok(event)
    }

    /// Advances an HOTP token's counter and returns the value to generate this code
    /// with. The increment and its audit event commit together and durably, so a
    /// counter value is never handed out twice, even across a crash.
    pub async fn next_hotp_counter(&self, id: TokenId) -> Result<u64, VaultError> {
        self.keys()?;
        let now = self.clock.now();
        let mut tx = self.audited(now).await?;
        let current = fetch_live(&mut tx, id).await?;
        let OtpKind::Hotp { .. } = current.kind else {
            return Err(VaultError::NotHotp { id });
        };
        let used = advance_counter(&mut tx, id, now).await?;
        tx.record(AuditAction::HotpAdvance, Some(id), None).await?;
        tx.commit().await?;
        Ok(used)
    }
}

/// Moves an HOTP counter on by one and returns the value to generate with; the
/// caller's transaction records the event.
async fn advance_counter(
    conn: &mut SqliteConnection,
    id: TokenId,
    now: SystemTime,
) -> Result<u64, VaultError> {
    let new_counter: Option<i64> = sqlx::query_scalar(
            "UPDATE tokens SET counter = counter + 1, updated_at = ?
             WHERE id = ? AND deleted_at IS NULL AND counter < 9223372036854775807 RETURNING counter",
        )
        .bind(unix_millis(now))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let new_counter = new_counter.ok_or(VaultError::InvalidCounter { counter: u64::MAX })?;
    let used = u64::try_from(new_counter - 1).map_err(|_| corrupt("negative HOTP counter"))?;
    Ok(used)
}

pub(crate) async fn unseal(
    conn: &mut SqliteConnection,
    keys: &VaultKeys,
    id: TokenId,
) -> Result<Secret, VaultError> {
    let row = sqlx::query("SELECT seal_version, seed_nonce, seed_sealed FROM tokens WHERE id = ? AND deleted_at IS NULL")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(VaultError::NotFound { id })?;
    open_row(keys, id, &row)
}

/// Decrypts the seed columns of one row; any failure is that token's `Corrupt`.
fn open_row(keys: &VaultKeys, id: TokenId, row: &SqliteRow) -> Result<Secret, VaultError> {
    let version = row
        .try_get::<i64, _>("seal_version")
        .ok()
        .and_then(|version| u32::try_from(version).ok())
        .ok_or(VaultError::Corrupt { id })?;
    let nonce: &[u8] = row
        .try_get("seed_nonce")
        .map_err(|_| VaultError::Corrupt { id })?;
    let sealed: &[u8] = row
        .try_get("seed_sealed")
        .map_err(|_| VaultError::Corrupt { id })?;
    let mut plain = keys
        .open(&id.0, version, nonce, sealed)
        .ok_or(VaultError::Corrupt { id })?;
    Secret::from_bytes(std::mem::take(&mut *plain)).map_err(|_| VaultError::Corrupt { id })
}
