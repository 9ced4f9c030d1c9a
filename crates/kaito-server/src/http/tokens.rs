//! Shared tokens, their codes and seeds, grants, and the notifications about them.

use axum::extract::{Query, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use kaito_api::{
    ApiError, CodesView, CreatedId, GrantView, NewGrant, NewSharedToken, NotificationFilter,
    SeedView, SharedTokenView,
};

use super::ServerState;
use super::extract::{AdminRole, Authenticated, IdPath, JsonBody, PathIdRejection, Requires};
use super::openapi::{EmptyOk, Malformed, Missing, NotAllowed, SignedOut};
use super::reply::{Created, Done, done};
use crate::error::ServerError;
use crate::ids::{GrantId, NotificationId, TokenId};
use crate::shared;

pub(super) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/v1/tokens", get(list_tokens).post(add_token))
        .route("/v1/tokens/{token_id}/codes", get(codes))
        .route("/v1/tokens/{token_id}/seed", get(seed))
        .route("/v1/tokens/{token_id}/rotate", post(rotate))
        .route("/v1/tokens/{token_id}/grants", get(list_grants).post(grant))
        .route("/v1/grants/{grant_id}", delete(revoke_grant))
        .route("/v1/notifications", get(notifications))
        .route(
            "/v1/notifications/{notification_id}/read",
            post(mark_notification_read),
        )
}

/// Adds a shared token by its `otpauth://` URI (admins).
#[utoipa::path(
    post,
    path = "/v1/tokens",
    tag = "tokens",
    request_body = NewSharedToken,
    responses(
        (status = 200, description = "The new token's id.", body = CreatedId),
        Malformed, SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn add_token(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    JsonBody(request): JsonBody<NewSharedToken>,
) -> Result<Created<TokenId>, ServerError> {
    let token_id = shared::add_token(
        &state.store,
        &state.key,
        &admin.caller,
        &request.uri,
        admin.at,
    )
    .await?;
    Ok(Created(token_id))
}

/// The shared tokens the caller may use or manage; with `needs_rotation=true`
/// (admins) only those whose seed a disabled member held.
#[utoipa::path(
    get,
    path = "/v1/tokens",
    tag = "tokens",
    params(kaito_api::TokenFilter),
    responses(
        (status = 200, description = "The caller's shared tokens; never their seeds.", body = Vec<SharedTokenView>),
        (status = 403, description = "Only admins ask which tokens need rotation (`auth.forbidden`).", body = ApiError),
        SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn list_tokens(
    State(state): State<ServerState>,
    Authenticated { caller, at }: Authenticated,
    Query(filter): Query<kaito_api::TokenFilter>,
) -> Result<Json<Vec<SharedTokenView>>, ServerError> {
    shared::list_tokens(&state.store, &caller, filter, at)
        .await
        .map(Json)
}

/// The current and next codes of a shared token, computed by the server.
#[utoipa::path(
    get,
    path = "/v1/tokens/{token_id}/codes",
    tag = "tokens",
    params(
        ("token_id" = String, Path, description = "The shared token."),
    ),
    responses(
        (status = 200, description = "The codes.", body = CodesView),
        (status = 403, description = "The caller holds no live grant to the token (`grant.none`).", body = ApiError),
        SignedOut, Missing,
    ),
    security(("bearer" = [])),
)]
async fn codes(
    State(state): State<ServerState>,
    Authenticated { caller, at }: Authenticated,
    token_id: Result<IdPath<TokenId>, PathIdRejection>,
) -> Result<Json<CodesView>, ServerError> {
    let IdPath(token_id) = token_id.map_err(PathIdRejection::into_no_grant)?;
    shared::codes(&state.store, &state.key, &caller, token_id.as_str(), at)
        .await
        .map(Json)
}

/// The seed of a shared token, as an `otpauth://` URI (full-seed grants only).
#[utoipa::path(
    get,
    path = "/v1/tokens/{token_id}/seed",
    tag = "tokens",
    params(
        ("token_id" = String, Path, description = "The shared token."),
    ),
    responses(
        (status = 200, description = "The seed.", body = SeedView),
        (status = 403, description = "The caller's grant is code-only (`grant.code_only`), or there is none (`grant.none`).", body = ApiError),
        SignedOut, Missing,
    ),
    security(("bearer" = [])),
)]
async fn seed(
    State(state): State<ServerState>,
    Authenticated { caller, at }: Authenticated,
    token_id: Result<IdPath<TokenId>, PathIdRejection>,
) -> Result<Json<SeedView>, ServerError> {
    let IdPath(token_id) = token_id.map_err(PathIdRejection::into_no_grant)?;
    shared::seed(&state.store, &state.key, &caller, token_id.as_str(), at)
        .await
        .map(Json)
}

/// Replaces a shared token's seed (admins); holders of a copy are notified.
#[utoipa::path(
    post,
    path = "/v1/tokens/{token_id}/rotate",
    tag = "tokens",
    params(
        ("token_id" = String, Path, description = "The shared token."),
    ),
    request_body = NewSharedToken,
    responses(
        EmptyOk, Malformed, SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn rotate(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath(token_id): IdPath<TokenId>,
    JsonBody(request): JsonBody<NewSharedToken>,
) -> Done {
    shared::rotate(
        &state.store,
        &state.key,
        &admin.caller,
        token_id.as_str(),
        &request.uri,
        admin.at,
    )
    .await?;
    done()
}

/// The live grants to a shared token, oldest first (admins).
#[utoipa::path(
    get,
    path = "/v1/tokens/{token_id}/grants",
    tag = "tokens",
    params(
        ("token_id" = String, Path, description = "The shared token."),
    ),
    responses(
        (status = 200, description = "The token's grants that apply now: neither revoked nor expired.", body = Vec<GrantView>),
        SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn list_grants(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath(token_id): IdPath<TokenId>,
) -> Result<Json<Vec<GrantView>>, ServerError> {
    shared::grants(
        &state.store,
        &admin.caller.team_id,
        token_id.as_str(),
        admin.at,
    )
    .await
    .map(Json)
}

/// Grants a member or a group a shared token (admins).
#[utoipa::path(
    post,
    path = "/v1/tokens/{token_id}/grants",
    tag = "tokens",
    params(
        ("token_id" = String, Path, description = "The shared token."),
    ),
    request_body = NewGrant,
    responses(
        (status = 200, description = "The new grant's id.", body = CreatedId),
        Malformed, SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn grant(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath(token_id): IdPath<TokenId>,
    JsonBody(request): JsonBody<NewGrant>,
) -> Result<Created<GrantId>, ServerError> {
    let grant_id = shared::grant(
        &state.store,
        &admin.caller,
        token_id.as_str(),
        &request,
        admin.at,
    )
    .await?;
    Ok(Created(grant_id))
}

/// Revokes a grant (admins).
#[utoipa::path(
    delete,
    path = "/v1/grants/{grant_id}",
    tag = "tokens",
    params(
        ("grant_id" = String, Path, description = "The grant to revoke."),
    ),
    responses(
        EmptyOk, SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn revoke_grant(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath(grant_id): IdPath<GrantId>,
) -> Done {
    shared::revoke_grant(&state.store, &admin.caller, grant_id.as_str(), admin.at).await?;
    done()
}

/// What the caller should act on, such as rotated seeds.
#[utoipa::path(
    get,
    path = "/v1/notifications",
    tag = "tokens",
    params(
        NotificationFilter,
    ),
    responses(
        (status = 200, description = "The caller's notifications.", body = Vec<kaito_api::NotificationView>),
        Malformed, SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn notifications(
    State(state): State<ServerState>,
    Authenticated { caller, .. }: Authenticated,
    Query(filter): Query<NotificationFilter>,
) -> Result<Json<Vec<kaito_api::NotificationView>>, ServerError> {
    shared::notifications(&state.store, &caller, filter.unread)
        .await
        .map(Json)
}

/// Marks one of the caller's notifications read.
#[utoipa::path(
    post,
    path = "/v1/notifications/{notification_id}/read",
    tag = "tokens",
    params(
        ("notification_id" = String, Path, description = "The notification."),
    ),
    responses(
        EmptyOk, SignedOut, Missing,
    ),
    security(("bearer" = [])),
)]
async fn mark_notification_read(
    State(state): State<ServerState>,
    Authenticated { caller, at }: Authenticated,
    IdPath(notification_id): IdPath<NotificationId>,
) -> Done {
    shared::mark_read(&state.store, &caller, notification_id.as_str(), at).await?;
    done()
}
