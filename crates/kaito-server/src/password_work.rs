//! Where Argon2 runs: on blocking threads, never on the async workers, and at most
//! a few at once. Each hash holds 19 MiB for ~50 ms, so an unbounded flood of
//! sign-ins (any email works: unknown ones check a decoy) could exhaust the
//! server's memory; with slots it costs at most `slots × 19 MiB`, and a request
//! that waits too long for one is answered 503 with `Retry-After`.
//!
//! Hashing is also done before any write transaction opens, so no sign-up or
//! password change holds SQLite's write lock for the length of a hash.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::error::ServerError;
use crate::secrets::{HashMemory, PasswordCheck, hash_password, verify_password};

/// How long a request waits for a hashing slot before it is told to come back.
const QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Passwords under 12 characters are refused: the team's shared 2FA seeds sit
/// behind them.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The slots for password hashing one server shares. Cloning shares them.
#[derive(Clone)]
pub struct PasswordWork {
    slots: Arc<Semaphore>,
    /// One working memory per slot that has been used, handed from hash to hash.
    memories: Arc<std::sync::Mutex<Vec<HashMemory>>>,
    queue_wait: Duration,
}

impl std::fmt::Debug for PasswordWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordWork")
            .field("free_slots", &self.slots.available_permits())
            .field("queue_wait", &self.queue_wait)
            .finish_non_exhaustive()
    }
}

/// The stored form of a new password that passed the strength rule.
#[derive(Clone)]
pub struct NewPasswordHash(String);

impl NewPasswordHash {
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A hash is not a secret the way a password is, but it is offline-guessable.
impl std::fmt::Debug for NewPasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPasswordHash(..)")
    }
}

/// What a sign-in's password check found.
#[derive(Debug)]
pub struct Checked {
    pub matches: bool,
    /// A hash in today's form to store instead of the checked one, when that was
    /// outdated and the password matched.
    pub replacement: Option<String>,
}

impl Default for PasswordWork {
    /// Two slots per core: enough to keep every core busy, no more.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self::with_slots(cores * 2)
    }
}

impl PasswordWork {
    #[must_use]
    pub fn with_slots(slots: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots.max(1))),
            memories: Arc::default(),
            queue_wait: QUEUE_WAIT,
        }
    }

    /// How long a request waits for a slot (tests make it short).
    #[must_use]
    pub fn with_queue_wait(mut self, queue_wait: Duration) -> Self {
        self.queue_wait = queue_wait;
        self
    }

    /// Checks a new password against the strength rule, then hashes it.
    pub async fn hash_new(&self, password: &str) -> Result<NewPasswordHash, ServerError> {
        check_password_strength(password)?;
        let password = Zeroizing::new(password.to_owned());
        self.run(move |memory| hash_password(&password, memory).map(NewPasswordHash))
            .await
    }

    /// Checks a typed password against a stored hash, and makes its replacement
    /// in the same slot when the stored one is outdated: the password is at hand
    /// only now.
    pub async fn check(&self, password: &str, stored: String) -> Result<Checked, ServerError> {
        let typed = Zeroizing::new(password.to_owned());
        self.run(move |memory| {
            let PasswordCheck { matches, outdated } = verify_password(&typed, &stored, memory)?;
            let replacement = (matches && outdated)
                .then(|| hash_password(&typed, memory))
                .transpose()?;
            Ok(Checked {
                matches,
                replacement,
            })
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut HashMemory) -> Result<T, ServerError> + Send + 'static,
    ) -> Result<T, ServerError> {
        let slot = tokio::time::timeout(self.queue_wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| ServerError::Busy {
                retry_after_secs: 1,
            })?
            .map_err(|_| ServerError::PasswordHash("the hashing slots are closed".to_owned()))?;
        let memories = self.memories.clone();
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let take = || {
                memories
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            };
            let mut memory = take().pop().unwrap_or_default();
            let done = work(&mut memory);
            memory.wipe();
            take().push(memory);
            done
        })
        .await
        .map_err(|error| ServerError::PasswordHash(error.to_string()))?
    }
}

pub fn check_password_strength(password: &str) -> Result<(), ServerError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ServerError::BadRequest(format!(
            "The password must have at least {MIN_PASSWORD_CHARS} characters."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_weak_password_is_refused_before_any_hashing() {
        let work = PasswordWork::with_slots(1);
        let weak = work.hash_new("eleven char").await;
        assert!(matches!(weak, Err(ServerError::BadRequest(m)) if m.contains("12 characters")));
        let strong = work.hash_new("twelve chars").await.unwrap();
        assert!(
            work.check("twelve chars", strong.as_str().to_owned())
                .await
                .unwrap()
                .matches
        );
    }

    #[tokio::test]
    async fn a_request_that_finds_every_slot_busy_for_too_long_is_told_to_retry() {
        let work = PasswordWork::with_slots(1).with_queue_wait(Duration::from_millis(20));
        let held = work.slots.clone().acquire_owned().await.unwrap();
        let busy = work
            .check("anything", crate::secrets::decoy_hash().to_owned())
            .await;
        assert!(matches!(
            busy,
            Err(ServerError::Busy {
                retry_after_secs: 1
            })
        ));
        drop(held);
        let checked = work
            .check("anything", crate::secrets::decoy_hash().to_owned())
            .await
            .unwrap();
        assert!(!checked.matches);
    }
}
