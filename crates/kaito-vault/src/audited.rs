//! The vault's one way to write an audited change: a `BEGIN IMMEDIATE` transaction
//! that appends to the audit chain before it commits, so an action and its event
//! are stored together or not at all.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::SystemTime;

use sqlx::{Sqlite, SqliteConnection, Transaction};
use uuid::Uuid;

use crate::TokenId;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::error::VaultError;
use crate::vault::Vault;

/// A write transaction whose events join the audit chain. It derefs to the
/// connection for the writes; [`Audited::record`] appends an event, and
/// [`Audited::commit`] is the only way to keep anything: dropped, it rolls back.
#[must_use = "an audited transaction rolls back unless committed"]
pub(crate) struct Audited<'c> {
    tx: Transaction<'c, Sqlite>,
    device_id: Uuid,
    now: SystemTime,
    recorded: bool,
}

impl Vault {
    /// Begins an audited write; its events carry `now`, and so should its rows.
    pub(crate) async fn audited(&self, now: SystemTime) -> Result<Audited<'_>, VaultError> {
        Ok(Audited {
            tx: self.pool().begin_with("BEGIN IMMEDIATE").await?,
            device_id: self.device_id(),
            now,
            recorded: false,
        })
    }
}

impl Audited<'_> {
    /// The time this transaction's events carry.
    pub(crate) fn now(&self) -> SystemTime {
        self.now
    }

    /// Appends an event to the chain inside this transaction.
    pub(crate) async fn record(
        &mut self,
        action: AuditAction,
        subject: Option<TokenId>,
        detail: Option<String>,
    ) -> Result<AuditEvent, VaultError> {
        let event = audit::append(
            &mut self.tx,
            self.device_id,
            self.now,
            action,
            subject,
            detail,
        )
        .await?;
        self.recorded = true;
        Ok(event)
    }

    /// Commits the writes with their events. A commit without any event is a bug:
    /// the write belongs in a plain transaction.
    pub(crate) async fn commit(self) -> Result<(), VaultError> {
        debug_assert!(self.recorded, "an audited transaction recorded no event");
        self.tx.commit().await?;
        Ok(())
    }
}

impl Deref for Audited<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl DerefMut for Audited<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

impl fmt::Debug for Audited<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Audited")
            .field("now", &self.now)
            .field("recorded", &self.recorded)
            .finish_non_exhaustive()
    }
}
