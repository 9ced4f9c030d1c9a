//! The audit outbox as the sync client sees it: pending events, acknowledgement
//! and chain verification.

use super::Vault;
use crate::audit::{self, Acknowledgement, AuditEvent, ChainReport};
use crate::error::VaultError;

impl Vault {
    /// Up to `limit` unacknowledged audit events, oldest first, for the sync client.
    pub async fn pending(&self, limit: u32) -> Result<Vec<AuditEvent>, VaultError> {
        let mut conn = self.pool.acquire().await?;
        audit::pending(&mut conn, limit).await
    }

    /// Marks events as stored by the server and deletes what can be deleted without
    /// breaking the chain. Returns how many events were deleted.
    pub async fn acknowledge(&self, ack: &Acknowledgement) -> Result<u64, VaultError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let deleted = audit::acknowledge(&mut tx, ack).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// Verifies the hash chain of every locally stored audit event.
    pub async fn verify_chain(&self) -> Result<ChainReport, VaultError> {
        let mut conn = self.pool.acquire().await?;
        audit::verify(&mut conn).await
    }
}
