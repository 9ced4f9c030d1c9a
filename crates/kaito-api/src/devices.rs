//! Members' devices and the signed audit events they report.

use serde::{Deserialize, Serialize};

/// `POST /v1/devices`: a device of the signed-in member, with its Ed25519 public key
/// (base64, 32 bytes).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewDevice {
    pub name: String,
    pub public_key: String,
}

/// What a device records locally and sends later: a code seen or copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceEvent {
    /// Chosen by the device (a UUID); sending it again is harmless.
    pub event_id: String,
    /// 1, 2, 3… per device, with no gaps.
    pub seq: i64,
    /// Unix milliseconds on the device's clock.
    pub at: i64,
    /// `code.viewed`, `code.copied`, `seed.revealed` or `sms.code_copied`.
    pub kind: String,
    /// The shared token, or for `sms.code_copied` the inbox number.
    #[serde(default)]
    pub token_id: Option<String>,
    #[serde(default)]
    pub details: serde_json::Value,
}

/// `POST /v1/events:batch`, signed with the device key (`X-Kaito-Signature`: base64
/// Ed25519 over the exact body bytes).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventBatch {
    pub device_id: String,
    pub events: Vec<DeviceEvent>,
}

/// What the server did with a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchReceipt {
    pub accepted: u32,
    /// Events already received before (by `event_id`).
    pub duplicates: u32,
    /// Sequence numbers that were skipped, as `[first missing, last missing]`.
    pub gaps: Vec<[i64; 2]>,
}
