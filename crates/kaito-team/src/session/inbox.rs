//! The shared SMS inbox as received on this run, and the task that keeps its live
//! stream open.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use kaito_api::SmsMessageView;

use super::{Problem, Session, lock};
use crate::error::TeamError;
use crate::retry::retry_delay;

/// Messages the inbox keeps in memory, newest kept.
const INBOX_KEPT: usize = 200;
/// Messages older than this when they reach a starting app are history: no
/// notification for them.
const FRESH_FOR_MS: i64 = 60_000;

/// What the app is told as the inbox changes.
pub trait InboxEvents: Send + Sync {
    /// A message arrived, or the stream opened or closed.
    fn changed(&self);
    /// A message arrived while the app runs: worth a desktop notification (never
    /// with its code, which would escape the audit log there).
    fn arrived(&self, message: &SmsMessageView);
}

/// The inbox as received so far on this run.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    messages: VecDeque<SmsMessageView>,
    last_seq: i64,
    live: bool,
    problem: Option<Problem>,
}

impl Inbox {
    fn push(&mut self, message: SmsMessageView) {
        self.last_seq = self.last_seq.max(message.seq);
        self.messages.push_back(message);
        while self.messages.len() > INBOX_KEPT {
            self.messages.pop_front();
        }
    }
}

/// The inbox as a window shows it.
#[derive(Debug, Clone)]
pub struct InboxState {
    pub linked: bool,
    /// The live stream is open: new messages appear as they arrive.
    pub live: bool,
    /// Why the stream is not open, while it is retried.
    pub problem: Option<Problem>,
    /// Newest first.
    pub messages: Vec<SmsMessageView>,
}

impl Session {
    /// The inbox as the window shows it.
    pub fn inbox(&self) -> InboxState {
        let linked = self.client().is_some();
        if self.is_locked() {
            // No text leaves a locked app.
            return InboxState {
                linked,
                live: false,
                problem: Some(Problem::from(&TeamError::Vault(
                    kaito_vault::VaultError::Locked,
                ))),
                messages: Vec::new(),
            };
        }
        let inbox = lock(&self.inbox);
        InboxState {
            linked,
            live: inbox.live,
            problem: inbox.problem.clone(),
            messages: inbox.messages.iter().rev().cloned().collect(),
        }
    }

    /// Copies the code of inbox message `seq` with `place` (the clipboard) and, once
    /// placed, records the copy for the team log.
    pub async fn copy_sms_code<E: From<TeamError>>(
        &self,
        vault: &kaito_vault::Vault,
        seq: i64,
        place: impl FnOnce(&str) -> Result<(), E>,
    ) -> Result<String, E> {
        self.check_unlocked(Some(vault))?;
        let (number_id, code) = {
            let inbox = lock(&self.inbox);
            let message = inbox
                .messages
                .iter()
                .find(|message| message.seq == seq)
                .ok_or(TeamError::NoMessage)?;
            let code = message.code.clone().ok_or(TeamError::NoCodeInMessage)?;
            (message.number_id.clone(), code)
        };
        place(&code)?;
        crate::outbox::record_sms_code_copy(vault, &number_id, seq, crate::Surface::Inbox).await?;
        self.sync_now.notify_one();
        Ok(code)
    }

    /// Keeps the inbox stream open while signed in: from the last message seen,
    /// reopened with backoff after a drop, and restarted for a new account.
    pub async fn inbox_forever(self: Arc<Self>, events: Arc<dyn InboxEvents>) {
        let started_ms = kaito_vault::clock::unix_millis(SystemTime::now());
        let mut sign_ins = self.sign_ins.subscribe();
        let mut locked = self.locked.subscribe();
        let mut failures = 0u32;
        loop {
            sign_ins.borrow_and_update();
            // Closed while the app is locked: the server would log texts as read
            // that nobody can see.
            if *locked.borrow_and_update() {
                tokio::select! {
                    changed = locked.changed() => if changed.is_err() { return },
                    _ = sign_ins.changed() => {}
                }
                continue;
            }
            let Some(client) = self.client() else {
                tokio::select! {
                    changed = sign_ins.changed() => if changed.is_err() { return },
                    _ = locked.changed() => {}
                }
                continue;
            };
            let after = lock(&self.inbox).last_seq;
            let opened = tokio::select! {
                opened = client.sms_stream(after) => opened,
                _ = sign_ins.changed() => continue,
                _ = locked.changed() => continue,
            };
            let problem = match opened {
                Ok(mut stream) => {
                    let opened_at = Instant::now();
                    self.set_inbox_state(&*events, true, None);
                    let ended = loop {
                        let next = tokio::select! {
                            next = stream.next() => next,
                            _ = sign_ins.changed() => break None,
                            _ = locked.changed() => break None,
                        };
                        match next {
                            Ok(Some(message)) => {
                                if message.received_at >= started_ms - FRESH_FOR_MS {
                                    events.arrived(&message);
                                }
                                lock(&self.inbox).push(message);
                                events.changed();
                            }
                            Ok(None) => break Some(Problem::from(&TeamError::StreamClosed)),
                            Err(error) => break Some(Problem::from(&error)),
                        }
                    };
                    // A stream that held for a while was a healthy one.
                    if opened_at.elapsed() > Duration::from_secs(60) {
                        failures = 0;
                    }
                    ended
                }
                Err(error) => Some(Problem::from(&error)),
            };
            let Some(problem) = problem else {
                // Signed in or out, or locked, meanwhile: start over.
                self.set_inbox_state(&*events, false, None);
                continue;
            };
            tracing::info!(code = %problem.code, "the inbox stream will be reopened");
            self.set_inbox_state(&*events, false, Some(problem));
            let wait = retry_delay(failures, None);
            failures = failures.saturating_add(1);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = sign_ins.changed() => {}
                _ = locked.changed() => {}
            }
        }
    }

    fn set_inbox_state(&self, events: &dyn InboxEvents, live: bool, problem: Option<Problem>) {
        {
            let mut inbox = lock(&self.inbox);
            inbox.live = live;
            inbox.problem = problem;
        }
        events.changed();
    }

    /// Forgets the previous account's messages.
    pub(crate) fn clear_inbox(&self) {
        *lock(&self.inbox) = Inbox::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: i64) -> SmsMessageView {
        SmsMessageView {
            seq,
            number_id: "num_1".to_owned(),
            label: String::new(),
            phone_number: "+15550100".to_owned(),
            from: "+15550199".to_owned(),
            body: String::new(),
            code: None,
            received_at: 0,
        }
    }

    #[test]
    fn the_inbox_keeps_the_newest_messages_and_the_highest_seq() {
        let mut inbox = Inbox::default();
        for seq in 1..=250 {
            inbox.push(message(seq));
        }
        inbox.push(message(7));
        assert_eq!(inbox.messages.len(), INBOX_KEPT);
        assert_eq!(
            inbox.last_seq, 250,
            "a late resend does not rewind the stream"
        );
        assert_eq!(inbox.messages.front().map(|m| m.seq), Some(52));
    }
}
