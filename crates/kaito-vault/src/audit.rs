//! The local audit outbox: a hash-chained, per-device sequence of events that a sync
//! client drains to the team server. Events are written in the same transaction as
//! the action they record, so an action without its event (or the reverse) cannot
//! survive a crash. Events carry the token id and action, never a code or a seed.

use std::time::SystemTime;

use sha2::{Digest, Sha256};
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::TokenId;
use crate::clock::{from_unix_millis, unix_millis};
use crate::error::VaultError;

/// Hash that the first event of a device links to.
pub const GENESIS_HASH: [u8; 32] = [0; 32];
/// Domain separation for the canonical encoding; bump with any layout change.
const CANONICAL_TAG: &[u8] = b"kaito-audit-event/v1\0";

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    CodeView,
    CodeCopy,
    SeedReveal,
    Add,
    Edit,
    SeedReplace,
    Delete,
    UndoDelete,
    Purge,
    Reorder,
    HotpAdvance,
    Export,
    Import,
    PassphraseSet,
    PassphraseChange,
    PassphraseRemove,
}

impl AuditAction {
    /// Stable wire name (part of the hashed bytes: never rename).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CodeView => "code.view",
            Self::CodeCopy => "code.copy",
            Self::SeedReveal => "seed.reveal",
            Self::Add => "token.add",
            Self::Edit => "token.edit",
            Self::SeedReplace => "token.seed_replace",
            Self::Delete => "token.delete",
            Self::UndoDelete => "token.undo_delete",
            Self::Purge => "token.purge",
            Self::Reorder => "token.reorder",
            Self::HotpAdvance => "hotp.advance",
            Self::Export => "vault.export",
            Self::Import => "vault.import",
            Self::PassphraseSet => "lock.passphrase_set",
            Self::PassphraseChange => "lock.passphrase_change",
            Self::PassphraseRemove => "lock.passphrase_remove",
        }
    }

    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        const ALL: [AuditAction; 16] = [
            AuditAction::CodeView,
            AuditAction::CodeCopy,
            AuditAction::SeedReveal,
            AuditAction::Add,
            AuditAction::Edit,
            AuditAction::SeedReplace,
            AuditAction::Delete,
            AuditAction::UndoDelete,
            AuditAction::Purge,
            AuditAction::Reorder,
            AuditAction::HotpAdvance,
            AuditAction::Export,
            AuditAction::Import,
            AuditAction::PassphraseSet,
            AuditAction::PassphraseChange,
            AuditAction::PassphraseRemove,
        ];
        ALL.into_iter().find(|action| action.as_str() == name)
    }
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// `UUIDv7` (time-ordered).
    pub id: Uuid,
    /// Per-device, strictly increasing from 1, no gaps.
    pub sequence: i64,
    pub device_id: Uuid,
    pub occurred_at: SystemTime,
    pub action: AuditAction,
    pub token_id: Option<TokenId>,
    /// Small non-secret context (e.g. "3 tokens"), never a code or seed.
    pub detail: Option<String>,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

impl AuditEvent {
    /// The exact bytes the hash covers: fixed-width integers big-endian,
    /// variable fields length-prefixed, so no two events encode alike.
    #[must_use]
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        out.extend_from_slice(CANONICAL_TAG);
        out.extend_from_slice(self.id.as_bytes());
        out.extend_from_slice(self.device_id.as_bytes());
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&unix_millis(self.occurred_at).to_be_bytes());
        let action = self.action.as_str().as_bytes();
        out.extend_from_slice(
            &u32::try_from(action.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        out.extend_from_slice(action);
        match self.token_id {
            Some(id) => {
                out.push(1);
                out.extend_from_slice(id.0.as_bytes());
            }
            None => out.push(0),
        }
        match &self.detail {
            Some(detail) => {
                out.push(1);
                out.extend_from_slice(
                    &u32::try_from(detail.len())
                        .unwrap_or(u32::MAX)
                        .to_be_bytes(),
                );
                out.extend_from_slice(detail.as_bytes());
            }
            None => out.push(0),
        }
        out.extend_from_slice(&self.prev_hash);
        out
    }

    #[must_use]
    pub fn compute_hash(&self) -> [u8; 32] {
        Sha256::digest(self.canonical_bytes()).into()
    }
}

/// What the sync client confirms the server has stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acknowledgement {
    Ids(Vec<Uuid>),
    /// Every event with a sequence up to and including this one.
    UpTo(i64),
}

/// Result of [`crate::Vault::verify_chain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainReport {
    /// Events still stored locally and checked.
    pub events_checked: u64,
    /// Sequence of the newest event ever written (0 when none).
    pub last_sequence: i64,
}

/// Appends an event inside the caller's transaction.
pub(crate) async fn append(
    conn: &mut SqliteConnection,
    device_id: Uuid,
    now: SystemTime,
    action: AuditAction,
    token_id: Option<TokenId>,
    detail: Option<String>,
) -> Result<AuditEvent, VaultError> {
    let head = sqlx::query("SELECT last_sequence, last_hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let last_sequence: i64 = head.try_get("last_sequence")?;
    let prev_hash = hash_column(&head, "last_hash")?;
    let millis = unix_millis(now);
    let seconds = u64::try_from(millis / 1000).unwrap_or(0);
    let nanos = u32::try_from((millis % 1000) * 1_000_000).unwrap_or(0);
    let mut event = AuditEvent {
        id: Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, seconds, nanos)),
        sequence: last_sequence + 1,
        device_id,
        occurred_at: from_unix_millis(millis),
        action,
        token_id,
        detail,
        prev_hash,
        hash: [0; 32],
    };
    event.hash = event.compute_hash();
    sqlx::query(
        "INSERT INTO audit_outbox (id, sequence, device_id, occurred_at, action, token_id, detail, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(event.id.to_string())
    .bind(event.sequence)
    .bind(device_id.to_string())
    .bind(millis)
    .bind(action.as_str())
    .bind(token_id.map(|id| id.0.to_string()))
    .bind(event.detail.as_deref())
    .bind(&event.prev_hash[..])
    .bind(&event.hash[..])
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET last_sequence = ?, last_hash = ? WHERE id = 1")
        .bind(event.sequence)
        .bind(&event.hash[..])
        .execute(&mut *conn)
        .await?;
    Ok(event)
}

fn hash_column(row: &sqlx::sqlite::SqliteRow, column: &str) -> Result<[u8; 32], VaultError> {
    let bytes: Vec<u8> = row.try_get(column)?;
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| VaultError::CorruptDatabase {
            detail: format!("audit {column} is not 32 bytes"),
        })
}

fn parse_uuid(text: &str, what: &str) -> Result<Uuid, VaultError> {
    Uuid::parse_str(text).map_err(|_| VaultError::CorruptDatabase {
        detail: format!("bad {what} {text:?}"),
    })
}

fn event_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<AuditEvent, VaultError> {
    let action: String = row.try_get("action")?;
    let token_id: Option<String> = row.try_get("token_id")?;
    Ok(AuditEvent {
        id: parse_uuid(&row.try_get::<String, _>("id")?, "event id")?,
        sequence: row.try_get("sequence")?,
        device_id: parse_uuid(&row.try_get::<String, _>("device_id")?, "device id")?,
        occurred_at: from_unix_millis(row.try_get("occurred_at")?),
        action: AuditAction::from_name(&action).ok_or_else(|| VaultError::CorruptDatabase {
            detail: format!("unknown audit action {action:?}"),
        })?,
        token_id: token_id
            .map(|text| parse_uuid(&text, "token id").map(TokenId))
            .transpose()?,
        detail: row.try_get("detail")?,
        prev_hash: hash_column(row, "prev_hash")?,
        hash: hash_column(row, "hash")?,
    })
}

/// Unacknowledged events, oldest first.
pub(crate) async fn pending(
    conn: &mut SqliteConnection,
    limit: u32,
) -> Result<Vec<AuditEvent>, VaultError> {
    let rows = sqlx::query(
        "SELECT id, sequence, device_id, occurred_at, action, token_id, detail, prev_hash, hash
         FROM audit_outbox WHERE acknowledged = 0 ORDER BY sequence LIMIT ?",
    )
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(event_from_row).collect()
}

/// Marks events acknowledged, then deletes the acknowledged prefix of the chain and
/// moves the verification anchor past it. Acknowledged events behind an
/// unacknowledged one stay (hidden from `pending`) so the chain stays verifiable.
/// Returns the number of events deleted.
pub(crate) async fn acknowledge(
    conn: &mut SqliteConnection,
    ack: &Acknowledgement,
) -> Result<u64, VaultError> {
    match ack {
        Acknowledgement::Ids(ids) => {
            for id in ids {
                sqlx::query("UPDATE audit_outbox SET acknowledged = 1 WHERE id = ?")
                    .bind(id.to_string())
                    .execute(&mut *conn)
                    .await?;
            }
        }
        Acknowledgement::UpTo(sequence) => {
            sqlx::query("UPDATE audit_outbox SET acknowledged = 1 WHERE sequence <= ?")
                .bind(sequence)
                .execute(&mut *conn)
                .await?;
        }
    }
    let first_open: Option<i64> =
        sqlx::query_scalar("SELECT MIN(sequence) FROM audit_outbox WHERE acknowledged = 0")
            .fetch_one(&mut *conn)
            .await?;
    let last_prunable: Option<i64> = match first_open {
        Some(open) => {
            sqlx::query_scalar("SELECT MAX(sequence) FROM audit_outbox WHERE sequence < ?")
                .bind(open)
                .fetch_one(&mut *conn)
                .await?
        }
        None => {
            sqlx::query_scalar("SELECT MAX(sequence) FROM audit_outbox")
                .fetch_one(&mut *conn)
                .await?
        }
    };
    let Some(last) = last_prunable else {
        return Ok(0);
    };
    let anchor = sqlx::query("SELECT hash FROM audit_outbox WHERE sequence = ?")
        .bind(last)
        .fetch_one(&mut *conn)
        .await?;
    let anchor_hash = hash_column(&anchor, "hash")?;
    sqlx::query("UPDATE audit_head SET anchor_sequence = ?, anchor_hash = ? WHERE id = 1")
        .bind(last)
        .bind(&anchor_hash[..])
        .execute(&mut *conn)
        .await?;
    let deleted = sqlx::query("DELETE FROM audit_outbox WHERE sequence <= ?")
        .bind(last)
        .execute(&mut *conn)
        .await?;
    Ok(deleted.rows_affected())
}

/// Checks every stored event: its hash, its link to the previous one (or to the
/// anchor left by acknowledged events), contiguous sequences, and the head.
pub(crate) async fn verify(conn: &mut SqliteConnection) -> Result<ChainReport, VaultError> {
    let head = sqlx::query("SELECT last_sequence, last_hash, anchor_sequence, anchor_hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let last_sequence: i64 = head.try_get("last_sequence")?;
    let last_hash = hash_column(&head, "last_hash")?;
    let mut expected_sequence: i64 = head.try_get::<i64, _>("anchor_sequence")? + 1;
    let mut expected_prev = hash_column(&head, "anchor_hash")?;
    let rows = sqlx::query(
        "SELECT id, sequence, device_id, occurred_at, action, token_id, detail, prev_hash, hash
         FROM audit_outbox ORDER BY sequence",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut checked = 0u64;
    for row in &rows {
        let sequence: i64 = row.try_get("sequence")?;
        let event = event_from_row(row).map_err(|_| VaultError::AuditChainBroken { sequence })?;
        if event.sequence != expected_sequence
            || event.prev_hash != expected_prev
            || event.compute_hash() != event.hash
        {
            return Err(VaultError::AuditChainBroken { sequence });
        }
        expected_prev = event.hash;
        expected_sequence += 1;
        checked += 1;
    }
    if expected_sequence - 1 != last_sequence || expected_prev != last_hash {
        return Err(VaultError::AuditChainBroken {
            sequence: expected_sequence,
        });
    }
    Ok(ChainReport {
        events_checked: checked,
        last_sequence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AuditEvent {
        AuditEvent {
            id: Uuid::now_v7(),
            sequence: 7,
            device_id: Uuid::new_v4(),
            occurred_at: from_unix_millis(1_700_000_000_123),
            action: AuditAction::CodeCopy,
            token_id: Some(TokenId(Uuid::new_v4())),
            detail: None,
            prev_hash: [9; 32],
            hash: [0; 32],
        }
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = sample();
        let hash = base.compute_hash();
        let variants = [
            AuditEvent {
                sequence: 8,
                ..base.clone()
            },
            AuditEvent {
                action: AuditAction::CodeView,
                ..base.clone()
            },
            AuditEvent {
                token_id: None,
                ..base.clone()
            },
            AuditEvent {
                detail: Some(String::new()),
                ..base.clone()
            },
            AuditEvent {
                prev_hash: [8; 32],
                ..base.clone()
            },
            AuditEvent {
                occurred_at: from_unix_millis(1_700_000_000_124),
                ..base.clone()
            },
            AuditEvent {
                device_id: Uuid::new_v4(),
                ..base.clone()
            },
        ];
        for variant in variants {
            assert_ne!(variant.compute_hash(), hash, "{variant:?}");
        }
    }

    #[test]
    fn action_names_round_trip() {
        for name in [
            "code.view",
            "code.copy",
            "seed.reveal",
            "token.add",
            "vault.export",
            "hotp.advance",
        ] {
            assert_eq!(AuditAction::from_name(name).unwrap().as_str(), name);
        }
        assert!(AuditAction::from_name("code.steal").is_none());
    }
}
