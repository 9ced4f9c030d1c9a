//! The append-only audit log: one hash chain per team, where each event's hash is
//! SHA-256(previous hash ‖ the event's canonical form). Changing, removing or
//! reordering any stored event breaks every hash after it, which [`verify`] finds.

mod chain;
mod pull;
mod query;
mod retention;
mod verify;

pub(crate) use chain::head;
pub use chain::{GENESIS, NewEvent, append, append_with_id};
pub use pull::{MAX_PAGE, checkpoint, pull};
pub use query::{EventFilter, events, events_matching};
pub use retention::{MIN_RETENTION_DAYS, prune_expired, prune_forever, retention, set_retention};
pub use verify::verify;
