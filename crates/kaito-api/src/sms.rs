//! The shared SMS inbox.

use serde::{Deserialize, Serialize};

/// A text message in the shared inbox, as a member allowed to read its number sees it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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

debug_without_secrets!(SmsMessageView {
    seq,
    number_id,
    received_at
});

/// `POST /v1/sms/numbers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewNumber {
    pub phone_number: String,
    #[serde(default)]
    pub label: String,
}

/// `POST /v1/sms/numbers/{number_id}/grants`: exactly one of `user_id`, `group_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NumberGrant {
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub group_id: Option<String>,
}

/// A team number as `GET /v1/sms/numbers` lists it, with who may read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SmsNumberView {
    pub id: String,
    pub phone_number: String,
    pub label: String,
    pub created_at: i64,
    pub grants: Vec<SmsNumberGrantView>,
}

/// One grant on a number: to a member or to a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SmsNumberGrantView {
    pub id: String,
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    pub created_by: String,
    pub created_at: i64,
}

/// The query of `GET /v1/sms/messages` and `/v1/sms/stream`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct AfterSeq {
    /// Messages after this seq.
    #[serde(default)]
    pub after: i64,
}
