//! Members' devices and the signed audit events they report.

use axum::extract::State;
use axum::routing::{delete, post};
use axum::{Json, Router};
use kaito_api::{ApiError, BatchReceipt, CreatedId, EventBatch, NewDevice};

use super::ServerState;
use super::extract::{Authenticated, IdPath, JsonBody, header};
use super::openapi::{EmptyOk, Malformed, Missing, SignedOut};
use super::reply::{Created, Done, done};
use crate::devices;
use crate::error::ServerError;
use crate::ids::DeviceId;

pub(super) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/v1/devices", post(enroll_device))
        .route("/v1/devices/{device_id}", delete(revoke_device))
        .route("/v1/events:batch", post(event_batch))
}

/// Enrolls a device of the caller with its Ed25519 public key.
#[utoipa::path(
    post,
    path = "/v1/devices",
    tag = "devices",
    request_body = NewDevice,
    responses(
        (status = 200, description = "The new device's id.", body = CreatedId),
        (status = 409, description = "This public key is enrolled already (`conflict`).", body = ApiError),
        Malformed, SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn enroll_device(
    State(state): State<ServerState>,
    Authenticated { caller, at }: Authenticated,
    JsonBody(device): JsonBody<NewDevice>,
) -> Result<Created<DeviceId>, ServerError> {
    let device_id = devices::enroll(&state.store, &caller, &device, at).await?;
    Ok(Created(device_id))
}

/// Revokes a device: the caller's own, or any in the team as an admin.
#[utoipa::path(
    delete,
    path = "/v1/devices/{device_id}",
    tag = "devices",
    params(
        ("device_id" = String, Path, description = "The device to revoke."),
    ),
    responses(
        EmptyOk, SignedOut, Missing,
    ),
    security(("bearer" = [])),
)]
async fn revoke_device(
    State(state): State<ServerState>,
    Authenticated { caller, at }: Authenticated,
    IdPath(device_id): IdPath<DeviceId>,
) -> Done {
    devices::revoke(&state.store, &caller, device_id.as_str(), at).await?;
    done()
}

/// A device's audit events, signed with its key.
///
/// `POST /v1/events:batch`: a device's audit events, signed over the raw body.
#[utoipa::path(
    post,
    path = "/v1/events:batch",
    tag = "devices",
    params(
        ("X-Kaito-Signature" = String, Header, description = "Base64 Ed25519 signature, by the device key, over the exact body bytes."),
    ),
    request_body = EventBatch,
    responses(
        (status = 200, description = "What the server did with the batch.", body = BatchReceipt),
        (status = 403, description = "The signature is wrong or missing (`signature.invalid`), or the device is not the caller's (`device.unknown`).", body = ApiError),
        (status = 429, description = "The device reported too many events lately (`device.rate_limited`); nothing of the batch was kept.", body = ApiError, headers(("Retry-After" = u64, description = "Seconds until the batch fits."))),
        Malformed, SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn event_batch(
    State(state): State<ServerState>,
    Authenticated { caller, at }: Authenticated,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<BatchReceipt>, ServerError> {
    let signature = header(&headers, "x-kaito-signature");
    devices::ingest(
        &state.store,
        &state.device_events,
        &caller,
        &body,
        signature,
        at,
    )
    .await
    .map(Json)
}
