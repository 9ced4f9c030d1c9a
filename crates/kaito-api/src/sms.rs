//! The shared SMS inbox.

use serde::{Deserialize, Serialize};

/// A text message in the shared inbox, as a member allowed to read its number sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SmsMessageView {
    /// Orders messages; the live stream's event id.
    pub seq: i64,
    pub number_id: String,
    pub phone_number: String,
    pub label: String,
    pub from: String,
    pub body: String,
    /// The one-time code found in the body, digits only.
    pub code: Option<String>,
    /// Unix milliseconds.
    pub received_at: i64,
}
