//! Invites: an admin invites by email, the invited person joins with the token.

use axum::extract::State;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use kaito_api::{AcceptInvite, ApiError, CreatedInvite, InviteView, NewInvite, TokenPair};

use super::ServerState;
use super::extract::{AdminRole, At, AttemptAllowed, IdPath, JsonBody, Requires};
use super::openapi::{EmptyOk, Malformed, Missing, NotAllowed, SignedOut};
use super::reply::{Done, done};
use crate::error::ServerError;
use crate::ids::InviteId;
use crate::invites;

pub(super) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/v1/team/invites", get(list_invites).post(create_invite))
        .route("/v1/team/invites/{invite_id}", delete(revoke_invite))
        .route("/v1/invites/accept", post(accept_invite))
}

/// Invites someone by email (admins; only an owner invites admins or owners).
#[utoipa::path(
    post,
    path = "/v1/team/invites",
    tag = "accounts",
    request_body = NewInvite,
    responses(
        (status = 200, description = "The invite; its token is shown this once.", body = CreatedInvite),
        (status = 409, description = "An account with this email exists already (`account.email_taken`).", body = ApiError),
        Malformed, SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn create_invite(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    JsonBody(invite): JsonBody<NewInvite>,
) -> Result<Json<CreatedInvite>, ServerError> {
    invites::create(
        &state.store,
        &admin.caller,
        (&invite.email, invite.role),
        state.public_url.as_deref(),
        admin.at,
    )
    .await
    .map(Json)
}

/// Invites not yet used, revoked or expired (admins).
#[utoipa::path(
    get,
    path = "/v1/team/invites",
    tag = "accounts",
    responses(
        (status = 200, description = "The pending invites.", body = Vec<InviteView>),
        SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn list_invites(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<Vec<InviteView>>, ServerError> {
    invites::pending(&state.store, &admin.caller.team_id, admin.at)
        .await
        .map(Json)
}

/// Revokes a pending invite (admins).
#[utoipa::path(
    delete,
    path = "/v1/team/invites/{invite_id}",
    tag = "accounts",
    params(
        ("invite_id" = String, Path, description = "The invite to revoke."),
    ),
    responses(
        EmptyOk, SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn revoke_invite(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath(invite_id): IdPath<InviteId>,
) -> Done {
    invites::revoke(&state.store, &admin.caller, invite_id.as_str(), admin.at).await?;
    done()
}

/// Joins a team through an invite; answered signed in.
///
/// `POST /v1/invites/accept`: no session yet; the invite token is the credential.
#[utoipa::path(
    post,
    path = "/v1/invites/accept",
    tag = "accounts",
    request_body = AcceptInvite,
    responses(
        (status = 200, description = "The new member's first tokens.", body = TokenPair),
        (status = 409, description = "An account with this email exists already (`account.email_taken`).", body = ApiError),
        (status = 410, description = "The invite was used, revoked or expired (`invite.invalid`).", body = ApiError),
        (status = 429, description = "Too many password attempts from this address (`auth.address_rate_limited`).", body = ApiError, headers(("Retry-After" = u64, description = "Seconds until the next try is allowed."))),
        (status = 503, description = "Every password-hashing slot is busy (`server.busy`).", body = ApiError, headers(("Retry-After" = u64, description = "Seconds until the next try is allowed."))),
        Malformed,
    ),
)]
async fn accept_invite(
    State(state): State<ServerState>,
    _: AttemptAllowed,
    At(at): At,
    JsonBody(request): JsonBody<AcceptInvite>,
) -> Result<Json<TokenPair>, ServerError> {
    invites::check_open(&state.store, &request.token, at).await?;
    // Before the invite is claimed, so a weak password leaves the link working.
    let password = state.passwords.hash_new(&request.password).await?;
    invites::accept(&state.store, &request.token, (&request.name, &password), at)
        .await
        .map(Json)
}
