//! The desktop's client of a team server (`kaito-server`), with no UI in it: signs a
//! device in (password, invite link, or the team's identity provider in the system browser) and keeps the sign-in, lists the shared tokens
//! this member may use and fetches the codes the server computes, keeps full-seed
//! grants' seeds sealed in the vault, follows the shared SMS inbox, sends the device's
//! audit outbox in signed batches, and runs the admin calls.
//!
//! Storage is the vault's ([`kaito_vault::Vault`]'s team tables and a keychain slot);
//! every wire shape is [`kaito_api`]'s.

mod admin;
mod client;
mod error;
mod export;
mod inbox;
mod link;
mod outbox;
mod retry;
mod secrets;
pub mod session;
mod shared;
mod sign_in;
mod sso;

pub use admin::{AUDIT_PAGE, AuditFilter, EXPORT_LIMIT};
pub use client::TeamClient;
pub use error::TeamError;
pub use export::{audit_csv, audit_jsonl};
pub use inbox::SmsStream;
pub use link::{JoinLink, PasswordLink, TeamLink, server_url};
pub use outbox::{
    OUTBOX_BATCH, Surface, SyncReport, TeamEventKind, record_event, record_sms_code_copy,
};
pub use retry::retry_delay;
pub use session::{Session, device_name};
pub use shared::cached_tokens;
pub use sign_in::{PasswordStep, PendingSignIn};
pub use sso::sso_availability;
