//! The one way a domain write reaches the audit log: an [`Audited`] transaction.
//! Its events go into the team's hash chain inside the same transaction as the
//! action, so the two commit together or not at all, and [`Audited::commit`]
//! refuses a transaction that recorded nothing.

use std::ops::{Deref, DerefMut};

use kaito_api::AuditKind;

use crate::accounts::Caller;
use crate::audit::{self, NewEvent};
use crate::error::ServerError;
use crate::ids::{TeamId, UserId};
use crate::store::Store;

/// A write transaction ([`Store::write_tx`]) that records who did what. Deref it
/// for queries (`&mut **tx` is the connection); finish it with [`Self::commit`].
/// Dropping it rolls everything back, events included.
#[must_use = "an audited transaction rolls back unless it is committed"]
pub struct Audited<'a> {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    team_id: &'a TeamId,
    /// Who acts; `None` for the server itself.
    actor: Option<&'a str>,
    at_ms: i64,
    recorded: usize,
}

impl Store {
    /// A write by the signed-in `caller` at `at_ms`, to their team's chain.
    pub async fn audited<'a>(
        &self,
        caller: &'a Caller,
        at_ms: i64,
    ) -> Result<Audited<'a>, ServerError> {
        self.audited_in(&caller.team_id, Some(&caller.user_id), at_ms)
            .await
    }

    /// A write in `team_id` by `actor` (`None`: the server itself), for work no
    /// signed-in caller does: creating a team, signing in, joining, retention.
    pub async fn audited_in<'a>(
        &self,
        team_id: &'a TeamId,
        actor: Option<&'a UserId>,
        at_ms: i64,
    ) -> Result<Audited<'a>, ServerError> {
        Ok(Audited::new(self.write_tx().await?, team_id, actor, at_ms))
    }
}

impl<'a> Audited<'a> {
    /// Audits a write transaction already begun: for one that learns its team
    /// from what it reads first (an invite being accepted).
    pub fn new(
        tx: sqlx::Transaction<'static, sqlx::Any>,
        team_id: &'a TeamId,
        actor: Option<&'a UserId>,
        at_ms: i64,
    ) -> Self {
        Self {
            tx,
            team_id,
            actor: actor.map(UserId::as_str),
            at_ms,
            recorded: 0,
        }
    }

    /// The time of the action, as every event of it records.
    #[must_use]
    pub fn at_ms(&self) -> i64 {
        self.at_ms
    }

    /// The team whose chain the events join.
    #[must_use]
    pub fn team_id(&self) -> &'a TeamId {
        self.team_id
    }

    /// Appends an event by this transaction's actor.
    pub async fn record(
        &mut self,
        kind: AuditKind,
        subject: Option<&str>,
        details: serde_json::Value,
    ) -> Result<(), ServerError> {
        self.record_as(self.actor, kind, subject, details).await
    }

    /// Appends an event by someone else: the server itself (`None`), or the member
    /// an invite just created.
    pub async fn record_as(
        &mut self,
        actor: Option<&str>,
        kind: AuditKind,
        subject: Option<&str>,
        details: serde_json::Value,
    ) -> Result<(), ServerError> {
        let event = NewEvent {
            kind: kind.as_str(),
            actor,
            subject,
            details,
        };
        self.append(None, &event).await
    }

    /// As [`Self::record`], with the id the sender chose (a device: resending is
    /// harmless).
    pub async fn record_with_id(
        &mut self,
        event_id: &str,
        kind: AuditKind,
        subject: Option<&str>,
        details: serde_json::Value,
    ) -> Result<(), ServerError> {
        let event = NewEvent {
            kind: kind.as_str(),
            actor: self.actor,
            subject,
            details,
        };
        self.append(Some(event_id), &event).await
    }

    async fn append(
        &mut self,
        event_id: Option<&str>,
        event: &NewEvent<'_>,
    ) -> Result<(), ServerError> {
        match event_id {
            Some(event_id) => {
                audit::append_with_id(&mut self.tx, self.team_id, event_id, event, self.at_ms)
                    .await?
            }
            None => audit::append(&mut self.tx, self.team_id, event, self.at_ms).await?,
        };
        self.recorded += 1;
        Ok(())
    }

    /// Commits the action with its events. A transaction that recorded nothing is
    /// a bug (an unaudited change): it is rolled back and refused, never committed.
    pub async fn commit(self) -> Result<(), ServerError> {
        debug_assert!(
            self.recorded > 0,
            "an audited transaction recorded no event"
        );
        if self.recorded == 0 {
            return Err(ServerError::Unaudited);
        }
        self.tx.commit().await?;
        Ok(())
    }

    /// Commits when the work found something to change and recorded it; when it
    /// recorded nothing, it also wrote nothing, and is rolled back.
    pub async fn commit_if_recorded(self) -> Result<(), ServerError> {
        if self.recorded == 0 {
            return Ok(());
        }
        self.commit().await
    }
}

impl std::fmt::Debug for Audited<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audited")
            .field("team_id", &self.team_id)
            .field("actor", &self.actor)
            .field("at_ms", &self.at_ms)
            .field("recorded", &self.recorded)
            .finish_non_exhaustive()
    }
}

impl Deref for Audited<'_> {
    type Target = sqlx::Transaction<'static, sqlx::Any>;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl DerefMut for Audited<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}
