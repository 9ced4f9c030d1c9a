//! Groups of members, for grants.

use axum::extract::State;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use kaito_api::{ApiError, CreatedId, GroupMember, GroupView, NewGroup};

use super::ServerState;
use super::extract::{AdminRole, IdPath, JsonBody, Requires};
use super::openapi::{EmptyOk, Malformed, Missing, NotAllowed, SignedOut};
use super::reply::{Created, Done, done};
use crate::error::ServerError;
use crate::ids::{GroupId, UserId};
use crate::shared;

pub(super) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/v1/groups", get(list_groups).post(create_group))
        .route("/v1/groups/{group_id}/members", post(add_to_group))
        .route(
            "/v1/groups/{group_id}/members/{user_id}",
            delete(remove_from_group),
        )
}

/// The team's groups and their members, by name (admins).
#[utoipa::path(
    get,
    path = "/v1/groups",
    tag = "accounts",
    responses(
        (status = 200, description = "Every group of the caller's team.", body = Vec<GroupView>),
        SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn list_groups(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<Vec<GroupView>>, ServerError> {
    shared::groups(&state.store, &admin.caller.team_id)
        .await
        .map(Json)
}

/// Creates a group of members, for grants (admins).
#[utoipa::path(
    post,
    path = "/v1/groups",
    tag = "accounts",
    request_body = NewGroup,
    responses(
        (status = 200, description = "The new group's id.", body = CreatedId),
        (status = 409, description = "The team has a group of this name already (`conflict`).", body = ApiError),
        Malformed, SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn create_group(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    JsonBody(request): JsonBody<NewGroup>,
) -> Result<Created<GroupId>, ServerError> {
    let group_id =
        shared::create_group(&state.store, &admin.caller, &request.name, admin.at).await?;
    Ok(Created(group_id))
}

/// Adds a member to a group (admins).
#[utoipa::path(
    post,
    path = "/v1/groups/{group_id}/members",
    tag = "accounts",
    params(
        ("group_id" = String, Path, description = "The group."),
    ),
    request_body = GroupMember,
    responses(
        EmptyOk, Malformed, SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn add_to_group(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath(group_id): IdPath<GroupId>,
    JsonBody(request): JsonBody<GroupMember>,
) -> Done {
    shared::add_to_group(
        &state.store,
        &admin.caller,
        group_id.as_str(),
        &request.user_id,
        admin.at,
    )
    .await?;
    done()
}

/// Takes a member out of a group; the group's grants stop applying to them (admins).
#[utoipa::path(
    delete,
    path = "/v1/groups/{group_id}/members/{user_id}",
    tag = "accounts",
    params(
        ("group_id" = String, Path, description = "The group."),
        ("user_id" = String, Path, description = "The member to take out of it."),
    ),
    responses(
        (status = 404, description = "No such group in the caller's team, or the user is not in it (`not_found`).", body = ApiError),
        EmptyOk, SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn remove_from_group(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath((group_id, user_id)): IdPath<(GroupId, UserId)>,
) -> Done {
    shared::remove_from_group(
        &state.store,
        &admin.caller,
        group_id.as_str(),
        user_id.as_str(),
        admin.at,
    )
    .await?;
    done()
}
