//! How many live inbox streams one member may hold open at once (#16 L10). Every
//! text to a team wakes each of its streams, and each stream then reads the
//! database; without a bound one member could open thousands and turn every text
//! into thousands of queries. Eight covers a member's devices and a few windows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::ServerError;
use crate::ids::UserId;

/// Streams one member may have open at once.
pub const STREAMS_PER_MEMBER: usize = 8;

/// The open streams per member, shared by every request of one replica.
#[derive(Debug, Clone)]
pub struct StreamSlots {
    open: Arc<Mutex<HashMap<UserId, usize>>>,
    per_member: usize,
}

impl Default for StreamSlots {
    fn default() -> Self {
        Self::new(STREAMS_PER_MEMBER)
    }
}

/// One open stream; its slot is given back when the stream ends (is dropped).
#[derive(Debug)]
pub struct StreamSlot {
    slots: StreamSlots,
    user_id: UserId,
}

impl StreamSlots {
    #[must_use]
    pub fn new(per_member: usize) -> Self {
        Self {
            open: Arc::default(),
            per_member: per_member.max(1),
        }
    }

    /// A slot for one more of `user_id`'s streams, or `sms.too_many_streams`.
    pub fn take(&self, user_id: &UserId) -> Result<StreamSlot, ServerError> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(user_id.clone()).or_default();
        if *count >= self.per_member {
            return Err(ServerError::TooManyStreams {
                max: self.per_member,
            });
        }
        *count += 1;
        Ok(StreamSlot {
            slots: self.clone(),
            user_id: user_id.clone(),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self
            .slots
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.user_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_gets_their_slots_back_as_streams_end() {
        let slots = StreamSlots::new(2);
        let (mia, noah) = (
            UserId::from_stored("user_mia".to_owned()),
            UserId::from_stored("user_noah".to_owned()),
        );
        let first = slots.take(&mia).unwrap();
        let _second = slots.take(&mia).unwrap();
        assert!(matches!(
            slots.take(&mia),
            Err(ServerError::TooManyStreams { max: 2 })
        ));
        let _other = slots.take(&noah).unwrap();
        drop(first);
        let _again = slots.take(&mia).unwrap();
    }
}
