//! `sms.delivered` for many streams at once. Each arrival wakes every live stream
//! of the team, and each must record who got which texts before it sends them.
//! One transaction per stream serialises them on the team's chain (1,000 streams,
//! 1,000 commits); here the streams that are waiting while one commit runs are
//! written together by the next, each still its own event with its own member as
//! actor, and each stream sends only once its event is committed.

use std::sync::{Arc, Mutex, PoisonError};

use kaito_api::AuditKind;
use tokio::sync::oneshot;

use crate::accounts::Caller;
use crate::audited::Audited;
use crate::error::ServerError;
use crate::store::Store;

/// One delivery waiting to be recorded.
struct Pending {
    caller: Caller,
    subject: Option<String>,
    details: serde_json::Value,
    at_ms: i64,
    done: oneshot::Sender<Result<(), String>>,
}

/// Shared by every request of one replica; cloning shares it.
#[derive(Clone, Default)]
pub struct DeliveryLog {
    pending: Arc<Mutex<Vec<Pending>>>,
    /// Held while one batch is written; whoever gets it next writes all that
    /// queued meanwhile.
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for DeliveryLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryLog").finish_non_exhaustive()
    }
}

impl DeliveryLog {
    /// Records that `caller` is handed texts (`details`), committed before it
    /// returns: the texts may be sent then, and not before.
    pub async fn record(
        &self,
        store: &Store,
        caller: &Caller,
        (subject, details): (Option<&str>, serde_json::Value),
        at_ms: i64,
    ) -> Result<(), ServerError> {
        let (done, mut recorded) = oneshot::channel();
        self.lock_pending().push(Pending {
            caller: caller.clone(),
            subject: subject.map(str::to_owned),
            details,
            at_ms,
            done,
        });
        let _writer = self.writer.lock().await;
        // Written by the batch before ours, while we waited for the writer?
        if let Ok(result) = recorded.try_recv() {
            return result.map_err(ServerError::AuditWrite);
        }
        let batch = std::mem::take(&mut *self.lock_pending());
        write(store, batch).await;
        recorded
            .await
            .map_err(|_| ServerError::AuditWrite("the delivery was not recorded".to_owned()))?
            .map_err(ServerError::AuditWrite)
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Writes `batch` in one transaction per team and tells each waiter how it went.
async fn write(store: &Store, mut batch: Vec<Pending>) {
    batch.sort_by(|a, b| a.caller.team_id.as_str().cmp(b.caller.team_id.as_str()));
    while !batch.is_empty() {
        let team_id = batch[0].caller.team_id.clone();
        let split = batch
            .iter()
            .position(|pending| pending.caller.team_id != team_id)
            .unwrap_or(batch.len());
        let rest = batch.split_off(split);
        let team_batch = std::mem::replace(&mut batch, rest);
        let outcome = write_team(store, &team_id, &team_batch)
            .await
            .map_err(|error| error.to_string());
        if let Err(error) = &outcome {
            tracing::error!(%error, deliveries = team_batch.len(), "recording SMS deliveries failed");
        }
        for pending in team_batch {
            let _ = pending.done.send(outcome.clone());
        }
    }
}

async fn write_team(
    store: &Store,
    team_id: &crate::ids::TeamId,
    batch: &[Pending],
) -> Result<(), ServerError> {
    let at_ms = batch.iter().map(|pending| pending.at_ms).max().unwrap_or(0);
    let mut tx = Audited::new(store.write_tx().await?, team_id, None, at_ms);
    for pending in batch {
        tx.record_as(
            Some(pending.caller.user_id.as_str()),
            AuditKind::SmsDelivered,
            pending.subject.as_deref(),
            pending.details.clone(),
        )
        .await?;
    }
    tx.commit().await
}
