//! What team mode keeps in the vault file: the link to the team server, the last
//! list of shared tokens (for offline use), the outbox of views and copies for the
//! team's audit log, and the sealed seeds of full-seed grants kept on this device.
//!
//! The vault only stores: the link and the list are opaque JSON documents whose
//! shapes belong to the team client (`kaito-team`), so this crate needs no wire types.

use std::time::SystemTime;

use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::clock::{from_unix_millis, unix_millis};
use crate::error::VaultError;
use crate::vault::Vault;

/// One event waiting in the team outbox, numbered per device from 1.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    pub seq: i64,
    pub event_id: String,
    /// Unix milliseconds.
    pub at: i64,
    pub kind: String,
    pub subject: String,
    pub details: serde_json::Value,
}

fn document<T: Serialize>(value: &T, what: &str) -> Result<String, VaultError> {
    serde_json::to_string(value).map_err(|error| VaultError::CorruptDatabase {
        detail: format!("{what}: {error}"),
    })
}

fn parse<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, VaultError> {
    serde_json::from_str(text).map_err(|error| VaultError::CorruptDatabase {
        detail: format!("{what}: {error}"),
    })
}

impl Vault {
    /// The team this profile is signed in to, if any.
    pub async fn load_team_link<T: DeserializeOwned>(&self) -> Result<Option<T>, VaultError> {
        let document: Option<String> =
            sqlx::query_scalar("SELECT document FROM team_link WHERE id = 1")
                .fetch_optional(self.pool())
                .await?;
        document
            .map(|text| parse(&text, "the team link"))
            .transpose()
    }

    /// Keeps a new sign-in's link. A new sign-in replaces the old link and its cached
    /// tokens, and is a new device whose events are numbered from 1; events the old
    /// sign-in had not sent yet are dropped with it.
    pub async fn save_team_link<T: Serialize>(&self, link: &T) -> Result<(), VaultError> {
        let document = document(link, "the team link")?;
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM team_token_cache")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM team_outbox")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO team_link (id, document, linked_at) VALUES (1, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET document = excluded.document, linked_at = excluded.linked_at",
        )
        .bind(document)
        .bind(unix_millis(self.now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Keeps the latest list of shared tokens, replacing the one before.
    pub async fn cache_team_tokens<T: Serialize>(&self, tokens: &T) -> Result<(), VaultError> {
        let document = document(tokens, "the shared tokens")?;
        sqlx::query(
            "INSERT INTO team_token_cache (id, document, fetched_at) VALUES (1, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET document = excluded.document, fetched_at = excluded.fetched_at",
        )
        .bind(document)
        .bind(unix_millis(self.now()))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The shared tokens as last fetched, and when: shown (as stale) while offline.
    pub async fn cached_team_tokens<T: DeserializeOwned>(
        &self,
    ) -> Result<Option<(T, SystemTime)>, VaultError> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT document, fetched_at FROM team_token_cache WHERE id = 1")
                .fetch_optional(self.pool())
                .await?;
        row.map(|(document, fetched_at)| {
            parse(&document, "the shared tokens")
                .map(|tokens| (tokens, from_unix_millis(fetched_at)))
        })
        .transpose()
    }

    /// Queues an event for the team's audit log, numbered after the last one.
    pub async fn queue_team_event(
        &self,
        subject: &str,
        kind: &str,
        details: &serde_json::Value,
    ) -> Result<(), VaultError> {
        sqlx::query(
            "INSERT INTO team_outbox (seq, event_id, at, kind, token_id, details) \
             VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM team_outbox), ?, ?, ?, ?, ?)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(unix_millis(self.now()))
        .bind(kind)
        .bind(subject)
        .bind(details.to_string())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Up to `limit` unsent events, oldest first.
    pub async fn team_outbox_unsent(&self, limit: u32) -> Result<Vec<OutboxEvent>, VaultError> {
        let rows: Vec<(i64, String, i64, String, String, String)> = sqlx::query_as(
            "SELECT seq, event_id, at, kind, token_id, details FROM team_outbox \
             WHERE sent_at IS NULL ORDER BY seq LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(seq, event_id, at, kind, subject, details)| {
                Ok(OutboxEvent {
                    seq,
                    event_id,
                    at,
                    kind,
                    subject,
                    details: parse(&details, "a team outbox event")?,
                })
            })
            .collect()
    }

    /// Marks every event up to `through_seq` sent (the server took them).
    pub async fn mark_team_events_sent(&self, through_seq: i64) -> Result<(), VaultError> {
        sqlx::query("UPDATE team_outbox SET sent_at = ? WHERE seq <= ? AND sent_at IS NULL")
            .bind(unix_millis(self.now()))
            .bind(through_seq)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Events waiting to be sent, and when the last one went.
    pub async fn team_outbox_state(&self) -> Result<(u64, Option<SystemTime>), VaultError> {
        let (pending, last_sent): (i64, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM team_outbox WHERE sent_at IS NULL), \
                    (SELECT MAX(sent_at) FROM team_outbox)",
        )
        .fetch_one(self.pool())
        .await?;
        Ok((
            u64::try_from(pending).unwrap_or(0),
            last_sent.map(from_unix_millis),
        ))
    }

    /// Seals and keeps a shared token's `otpauth://` URI (replacing an earlier copy),
    /// with the server's rotation time it is current for.
    pub async fn store_team_seed(
        &self,
        token_id: &str,
        uri: &str,
        rotated_at: Option<i64>,
    ) -> Result<(), VaultError> {
        let keys = self.keys()?;
        let seal_id = uuid::Uuid::new_v4();
        let (nonce, sealed) = keys.seal(&seal_id, uri.as_bytes())?;
        sqlx::query(
            "INSERT INTO team_seeds (token_id, seal_id, seal_version, nonce, sealed, fetched_at, rotated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (token_id) DO UPDATE SET seal_id = excluded.seal_id, \
             seal_version = excluded.seal_version, nonce = excluded.nonce, \
             sealed = excluded.sealed, fetched_at = excluded.fetched_at, \
             rotated_at = excluded.rotated_at",
        )
        .bind(token_id)
        .bind(seal_id.to_string())
        .bind(i64::from(crate::crypto::SEAL_VERSION))
        .bind(&nonce[..])
        .bind(&sealed)
        .bind(unix_millis(self.now()))
        .bind(rotated_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The kept seeds' tokens, each with the server's rotation time it was kept for.
    pub async fn team_seed_rotations(&self) -> Result<Vec<(String, Option<i64>)>, VaultError> {
        Ok(
            sqlx::query_as("SELECT token_id, rotated_at FROM team_seeds ORDER BY token_id")
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// The kept seed of a shared token (its `otpauth://` URI), if this device keeps
    /// one. A seal that does not open is reported as corrupt.
    pub async fn team_seed(&self, token_id: &str) -> Result<Option<Zeroizing<String>>, VaultError> {
        let keys = self.keys()?;
        let row: Option<(String, i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT seal_id, seal_version, nonce, sealed FROM team_seeds WHERE token_id = ?",
        )
        .bind(token_id)
        .fetch_optional(self.pool())
        .await?;
        let Some((seal_id, version, nonce, sealed)) = row else {
            return Ok(None);
        };
        let corrupt = || VaultError::CorruptDatabase {
            detail: format!("the kept seed of shared token {token_id}"),
        };
        let seal_id = uuid::Uuid::parse_str(&seal_id).map_err(|_| corrupt())?;
        let version = u32::try_from(version).map_err(|_| corrupt())?;
        let mut plain = keys
            .open(&seal_id, version, &nonce, &sealed)
            .ok_or_else(corrupt)?;
        String::from_utf8(std::mem::take(&mut *plain))
            .map(|uri| Some(Zeroizing::new(uri)))
            .map_err(|_| corrupt())
    }

    /// The shared tokens whose seed this device keeps, and when each was fetched.
    pub async fn team_seed_ids(&self) -> Result<Vec<(String, SystemTime)>, VaultError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT token_id, fetched_at FROM team_seeds ORDER BY token_id")
                .fetch_all(self.pool())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(token_id, at)| (token_id, from_unix_millis(at)))
            .collect())
    }

    /// Removes the kept seed of a shared token (the codes come from the server again).
    pub async fn forget_team_seed(&self, token_id: &str) -> Result<(), VaultError> {
        sqlx::query("DELETE FROM team_seeds WHERE token_id = ?")
            .bind(token_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Removes everything team mode kept: link, list, outbox and kept seeds.
    pub async fn forget_team(&self) -> Result<(), VaultError> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM team_seeds")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM team_token_cache")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM team_link")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM team_outbox")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
