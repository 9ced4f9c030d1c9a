//! The team's audit log: pages, the SIEM pull API, the chain check, the signed
//! checkpoint and the retention setting.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use kaito_api::{
    ApiError, AuditEventView, AuditPage, AuditPullRequest, ChainReport, CheckpointView, EventPage,
    RetentionSetting,
};

use super::ServerState;
use super::extract::{AdminRole, AuditReader, JsonBody, OwnerRole, Requires};
use super::openapi::{Malformed, NotAllowed, SignedOut};
use crate::audit;
use crate::error::ServerError;

pub(super) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/v1/audit/events", get(audit_events).post(audit_pull))
        .route("/v1/audit/verify", get(audit_verify))
        .route("/v1/audit/checkpoint", get(audit_checkpoint))
        .route(
            "/v1/audit/retention",
            get(audit_retention).put(set_audit_retention),
        )
}

/// The page's filter for the store.
fn filter(page: EventPage) -> audit::EventFilter {
    // A form's empty field (`?kind=`) means "any", not "the empty kind".
    let given = |text: Option<String>| text.filter(|text| !text.is_empty());
    audit::EventFilter {
        kind: given(page.kind),
        actor: given(page.actor),
        subject: given(page.subject),
        from: page.from,
        to: page.to,
    }
}

/// Pages through the team's audit log by seq, optionally filtered (admins).
#[utoipa::path(
    get,
    path = "/v1/audit/events",
    tag = "audit",
    params(
        EventPage,
    ),
    responses(
        (status = 200, description = "Events after `after` that match every filter given, oldest first.", body = Vec<AuditEventView>),
        Malformed, SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn audit_events(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Query(page): Query<EventPage>,
) -> Result<Json<Vec<AuditEventView>>, ServerError> {
    let (after, limit) = (page.after, page.limit);
    audit::events_matching(
        &state.store,
        &admin.caller.team_id,
        after,
        &filter(page),
        limit,
    )
    .await
    .map(Json)
}

/// Checks the audit log's hash chain (admins).
#[utoipa::path(
    get,
    path = "/v1/audit/verify",
    tag = "audit",
    responses(
        (status = 200, description = "Whether the chain is intact, and where it first breaks.", body = ChainReport),
        SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn audit_verify(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<ChainReport>, ServerError> {
    audit::verify(&state.store, &admin.caller.team_id)
        .await
        .map(Json)
}

/// The cursor pull API for SIEMs.
///
/// `POST /v1/audit/events`: the cursor pull API (admins, or `audit:read` tokens).
#[utoipa::path(
    post,
    path = "/v1/audit/events",
    tag = "audit",
    request_body = AuditPullRequest,
    responses(
        (status = 200, description = "One page of events.", body = AuditPage),
        (status = 403, description = "Neither an admin nor an API token with `audit:read` (`auth.forbidden`, `auth.scope`).", body = ApiError),
        Malformed, SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn audit_pull(
    State(state): State<ServerState>,
    reader: AuditReader,
    JsonBody(request): JsonBody<AuditPullRequest>,
) -> Result<Json<AuditPage>, ServerError> {
    audit::pull(&state.store, &reader.team_id, &request)
        .await
        .map(Json)
}

/// The audit chain's head, signed by the server (admins, or `audit:read` API tokens).
#[utoipa::path(
    get,
    path = "/v1/audit/checkpoint",
    tag = "audit",
    responses(
        (status = 200, description = "A signed checkpoint.", body = CheckpointView),
        (status = 403, description = "Neither an admin nor an API token with `audit:read` (`auth.forbidden`, `auth.scope`).", body = ApiError),
        SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn audit_checkpoint(
    State(state): State<ServerState>,
    reader: AuditReader,
) -> Result<Json<CheckpointView>, ServerError> {
    audit::checkpoint(&state.store, &state.key, &reader.team_id, reader.at)
        .await
        .map(Json)
}

/// How long audit events are kept (admins).
#[utoipa::path(
    get,
    path = "/v1/audit/retention",
    tag = "audit",
    responses(
        (status = 200, description = "The retention setting.", body = RetentionSetting),
        SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn audit_retention(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<RetentionSetting>, ServerError> {
    audit::retention(&state.store, &admin.caller.team_id)
        .await
        .map(Json)
}

/// Sets how long audit events are kept (owners).
///
/// Only an owner shortens how long the team's record is kept.
#[utoipa::path(
    put,
    path = "/v1/audit/retention",
    tag = "audit",
    request_body = RetentionSetting,
    responses(
        (status = 200, description = "The new setting.", body = RetentionSetting),
        Malformed, SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn set_audit_retention(
    State(state): State<ServerState>,
    owner: Requires<OwnerRole>,
    JsonBody(setting): JsonBody<RetentionSetting>,
) -> Result<Json<RetentionSetting>, ServerError> {
    audit::set_retention(
        &state.store,
        &owner.caller,
        (setting, state.audit_min_retention_days),
        owner.at,
    )
    .await?;
    Ok(Json(setting))
}
