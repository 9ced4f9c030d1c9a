//! SIEM sinks, and the API tokens SIEMs pull the audit log with.

use axum::extract::State;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use kaito_api::{ApiTokenView, CreatedApiToken, CreatedId, NewApiToken, NewSink, SinkView};

use super::ServerState;
use super::extract::{AdminRole, IdPath, JsonBody, Requires};
use super::openapi::{EmptyOk, Malformed, Missing, NotAllowed, SignedOut};
use super::reply::{Created, Done, done};
use crate::api_tokens;
use crate::error::ServerError;
use crate::ids::{ApiTokenId, SinkId};
use crate::siem;

pub(super) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/v1/siem/sinks", get(list_sinks).post(add_sink))
        .route("/v1/siem/sinks/{sink_id}", delete(remove_sink))
        .route("/v1/siem/sinks/{sink_id}/resume", post(resume_sink))
        .route(
            "/v1/api-tokens",
            get(list_api_tokens).post(create_api_token),
        )
        .route("/v1/api-tokens/{token_id}", delete(revoke_api_token))
}

/// The team's SIEM sinks and how their delivery goes (admins).
#[utoipa::path(
    get,
    path = "/v1/siem/sinks",
    tag = "siem",
    responses(
        (status = 200, description = "The sinks.", body = Vec<SinkView>),
        SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn list_sinks(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<Vec<SinkView>>, ServerError> {
    siem::list_sinks(&state.store, &admin.caller.team_id)
        .await
        .map(Json)
}

/// Adds a SIEM sink: syslog, Splunk HEC or a signed webhook (admins).
#[utoipa::path(
    post,
    path = "/v1/siem/sinks",
    tag = "siem",
    request_body = NewSink,
    responses(
        (status = 200, description = "The new sink's id.", body = CreatedId),
        Malformed, SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn add_sink(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    JsonBody(sink): JsonBody<NewSink>,
) -> Result<Created<SinkId>, ServerError> {
    let sink_id = siem::add_sink(
        &state.store,
        (&state.key, state.sink_destinations),
        &admin.caller,
        &sink,
        admin.at,
    )
    .await?;
    Ok(Created(sink_id))
}

/// Removes a SIEM sink (admins).
#[utoipa::path(
    delete,
    path = "/v1/siem/sinks/{sink_id}",
    tag = "siem",
    params(
        ("sink_id" = String, Path, description = "The sink to remove."),
    ),
    responses(
        EmptyOk, SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn remove_sink(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath(sink_id): IdPath<SinkId>,
) -> Done {
    siem::remove_sink(&state.store, &admin.caller, sink_id.as_str(), admin.at).await?;
    done()
}

/// Resumes a sink held when the admin who added it was disabled (admins): check
/// where it points first. The resuming admin becomes the one it answers to.
#[utoipa::path(
    post,
    path = "/v1/siem/sinks/{sink_id}/resume",
    tag = "siem",
    params(
        ("sink_id" = String, Path, description = "The held sink."),
    ),
    responses(
        EmptyOk, SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn resume_sink(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath(sink_id): IdPath<SinkId>,
) -> Done {
    siem::resume_sink(&state.store, &admin.caller, sink_id.as_str(), admin.at).await?;
    done()
}

/// The team's API tokens, revoked and expired ones too, with who made each and
/// when it was last used (admins). Never their secrets.
#[utoipa::path(
    get,
    path = "/v1/api-tokens",
    tag = "siem",
    responses(
        (status = 200, description = "The API tokens, newest first.", body = Vec<ApiTokenView>),
        SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn list_api_tokens(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<Vec<ApiTokenView>>, ServerError> {
    api_tokens::list(&state.store, &admin.caller.team_id, admin.at)
        .await
        .map(Json)
}

/// Creates an API token for a SIEM (admins).
#[utoipa::path(
    post,
    path = "/v1/api-tokens",
    tag = "siem",
    request_body = NewApiToken,
    responses(
        (status = 200, description = "The token; its secret is shown this once.", body = CreatedApiToken),
        Malformed, SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn create_api_token(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    JsonBody(request): JsonBody<NewApiToken>,
) -> Result<Json<CreatedApiToken>, ServerError> {
    api_tokens::create(&state.store, &admin.caller, &request, admin.at)
        .await
        .map(Json)
}

/// Revokes an API token (admins).
#[utoipa::path(
    delete,
    path = "/v1/api-tokens/{token_id}",
    tag = "siem",
    params(
        ("token_id" = String, Path, description = "The API token to revoke."),
    ),
    responses(
        EmptyOk, SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn revoke_api_token(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath(token_id): IdPath<ApiTokenId>,
) -> Done {
    api_tokens::revoke(&state.store, &admin.caller, token_id.as_str(), admin.at).await?;
    done()
}
