//! Sign-in and the team's members.

use axum::extract::State;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use kaito_api::{
    ApiError, CreatedMember, CreatedPasswordLink, LoginAnswer, LoginRequest, MeView, MemberView,
    NewMember, PasswordChange, RefreshRequest, Role, RoleChange, SetPassword, TokenPair,
};

use super::ServerState;
use super::extract::{
    AdminRole, At, AttemptAllowed, Authenticated, IdPath, JsonBody, OwnerRole, Requires,
};
use super::openapi::{EmptyOk, Malformed, Missing, NotAllowed, SignedOut};
use super::reply::{Done, done};
use crate::accounts;
use crate::error::ServerError;
use crate::ids::UserId;

pub(super) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/refresh", post(refresh))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/auth/set-password", post(set_password))
        .route("/v1/me", get(me))
        .route("/v1/me/password", post(change_password))
        .route("/v1/team/members", get(members).post(add_member))
        .route("/v1/team/members/{user_id}/disable", post(disable_member))
        .route("/v1/team/members/{user_id}/enable", post(enable_member))
        .route("/v1/team/members/{user_id}/role", put(set_member_role))
        .route(
            "/v1/team/members/{user_id}/password-link",
            post(issue_password_link),
        )
}

/// Signs in with an email and a password.
#[utoipa::path(
    post,
    path = "/v1/auth/login",
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in, or, for an account with a second factor, a challenge to answer at `POST /v1/auth/mfa`.", body = LoginAnswer),
        (status = 401, description = "The email or the password is wrong (`auth.invalid_credentials`).", body = ApiError),
        (status = 429, description = "Too many failed sign-ins for this account (`auth.rate_limited`) or attempts from this address (`auth.address_rate_limited`).", body = ApiError, headers(("Retry-After" = u64, description = "Seconds until the next try is allowed."))),
        (status = 503, description = "Every password-hashing slot is busy (`server.busy`).", body = ApiError, headers(("Retry-After" = u64, description = "Seconds until the next try is allowed."))),
        Malformed,
    ),
)]
async fn login(
    State(state): State<ServerState>,
    _: AttemptAllowed,
    At(at): At,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Json<LoginAnswer>, ServerError> {
    let passwords = &state.passwords;
    accounts::login(
        &state.store,
        passwords,
        &request.email,
        &request.password,
        at,
    )
    .await
    .map(Json)
}

/// Trades a refresh token for a new token pair; each refresh token works once.
#[utoipa::path(
    post,
    path = "/v1/auth/refresh",
    tag = "accounts",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair.", body = TokenPair),
        (status = 401, description = "The refresh token is no longer valid (`auth.invalid_refresh`).", body = ApiError),
        Malformed,
    ),
)]
async fn refresh(
    State(state): State<ServerState>,
    At(at): At,
    JsonBody(request): JsonBody<RefreshRequest>,
) -> Result<Json<TokenPair>, ServerError> {
    accounts::refresh(&state.store, &request.refresh_token, at)
        .await
        .map(Json)
}

/// Ends the caller's session.
#[utoipa::path(
    post,
    path = "/v1/auth/logout",
    tag = "accounts",
    responses(
        EmptyOk, SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn logout(
    State(state): State<ServerState>,
    Authenticated { caller, at }: Authenticated,
) -> Done {
    accounts::logout(&state.store, &caller, at).await?;
    done()
}

/// The signed-in member and their team.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "accounts",
    responses(
        (status = 200, description = "The caller.", body = MeView),
        SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn me(
    State(state): State<ServerState>,
    Authenticated { caller, .. }: Authenticated,
) -> Result<Json<MeView>, ServerError> {
    accounts::me(&state.store, &caller).await.map(Json)
}

/// The team's members (admins).
#[utoipa::path(
    get,
    path = "/v1/team/members",
    tag = "accounts",
    responses(
        (status = 200, description = "Every member of the caller's team.", body = Vec<MemberView>),
        SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn members(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<Vec<MemberView>>, ServerError> {
    accounts::members(&state.store, &admin.caller.team_id)
        .await
        .map(Json)
}

/// Adds a member with a first password (admins).
#[utoipa::path(
    post,
    path = "/v1/team/members",
    tag = "accounts",
    request_body = NewMember,
    responses(
        (status = 200, description = "The new member.", body = CreatedMember),
        (status = 403, description = "Not an admin, or an admin adding an admin or owner (`auth.forbidden`).", body = ApiError),
        (status = 409, description = "An account with this email exists already (`account.email_taken`).", body = ApiError),
        Malformed, SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn add_member(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    JsonBody(member): JsonBody<NewMember>,
) -> Result<Json<CreatedMember>, ServerError> {
    if member.role > Role::Member && admin.caller.role < Role::Owner {
        return Err(ServerError::Forbidden {
            have: admin.caller.role,
            need: Role::Owner,
        });
    }
    let password = state.passwords.hash_new(&member.password).await?;
    let user_id = accounts::create_user(
        &state.store,
        &admin.caller,
        (&member.email, &member.name, member.role),
        &password,
        admin.at,
    )
    .await?;
    Ok(Json(CreatedMember {
        user_id: user_id.to_string(),
    }))
}

/// Disables a member and ends their sessions (admins).
#[utoipa::path(
    post,
    path = "/v1/team/members/{user_id}/disable",
    tag = "accounts",
    params(
        ("user_id" = String, Path, description = "The member to disable."),
    ),
    responses(
        (status = 400, description = "Callers cannot disable themselves (`request.invalid`).", body = ApiError),
        EmptyOk, SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn disable_member(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath(user_id): IdPath<UserId>,
) -> Done {
    if user_id == admin.caller.user_id {
        return Err(ServerError::BadRequest(
            "You cannot disable yourself.".to_owned(),
        ));
    }
    accounts::disable_user(&state.store, &admin.caller, &user_id, admin.at).await?;
    done()
}

/// Lets a disabled member sign in again (owners).
#[utoipa::path(
    post,
    path = "/v1/team/members/{user_id}/enable",
    tag = "accounts",
    params(
        ("user_id" = String, Path, description = "The disabled member."),
    ),
    responses(
        (status = 409, description = "The member is not disabled (`conflict`).", body = ApiError),
        EmptyOk, SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn enable_member(
    State(state): State<ServerState>,
    owner: Requires<OwnerRole>,
    IdPath(user_id): IdPath<UserId>,
) -> Done {
    accounts::enable_user(&state.store, &owner.caller, &user_id, owner.at).await?;
    done()
}

/// Changes a member's role (owners). The last active owner cannot be demoted.
#[utoipa::path(
    put,
    path = "/v1/team/members/{user_id}/role",
    tag = "accounts",
    params(
        ("user_id" = String, Path, description = "The member."),
    ),
    request_body = RoleChange,
    responses(
        (status = 400, description = "The body is not valid, or this would demote the last active owner (`request.invalid`).", body = ApiError),
        (status = 409, description = "The member already has this role (`conflict`).", body = ApiError),
        EmptyOk, SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn set_member_role(
    State(state): State<ServerState>,
    owner: Requires<OwnerRole>,
    IdPath(user_id): IdPath<UserId>,
    JsonBody(change): JsonBody<RoleChange>,
) -> Done {
    accounts::set_role(&state.store, &owner.caller, &user_id, change.role, owner.at).await?;
    done()
}

/// Changes the caller's own password. The current password is required and
/// counts against the account's sign-in failure limit; every other session of the
/// caller ends.
#[utoipa::path(
    post,
    path = "/v1/me/password",
    tag = "accounts",
    request_body = PasswordChange,
    responses(
        (status = 400, description = "The new password is too short (`request.invalid`).", body = ApiError),
        (status = 403, description = "The current password is wrong (`auth.wrong_password`).", body = ApiError),
        (status = 429, description = "Too many wrong passwords for this account (`auth.rate_limited`).", body = ApiError, headers(("Retry-After" = u64, description = "Seconds until the next try is allowed."))),
        EmptyOk, SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn change_password(
    State(state): State<ServerState>,
    Authenticated { caller, at }: Authenticated,
    JsonBody(change): JsonBody<PasswordChange>,
) -> Done {
    accounts::change_password(&state.store, &state.passwords, &caller, &change, at).await?;
    done()
}

/// Resets a member's password (admins; an admin only for members): the old
/// password stops working, their sessions end, and the answer carries a one-time
/// set-password link, valid for a day, to hand to the member.
#[utoipa::path(
    post,
    path = "/v1/team/members/{user_id}/password-link",
    tag = "accounts",
    params(
        ("user_id" = String, Path, description = "The member whose password is reset."),
    ),
    responses(
        (status = 200, description = "The link; its token is shown only this once.", body = CreatedPasswordLink),
        (status = 400, description = "Callers change their own password with `POST /v1/me/password` (`request.invalid`).", body = ApiError),
        SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn issue_password_link(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath(user_id): IdPath<UserId>,
) -> Result<Json<CreatedPasswordLink>, ServerError> {
    accounts::issue_password_link(
        &state.store,
        &admin.caller,
        &user_id,
        state.public_url.as_deref(),
        admin.at,
    )
    .await
    .map(Json)
}

/// Chooses a new password with a set-password link, and signs in.
#[utoipa::path(
    post,
    path = "/v1/auth/set-password",
    tag = "accounts",
    request_body = SetPassword,
    responses(
        (status = 200, description = "The password is set; signed in.", body = TokenPair),
        (status = 400, description = "The password is too short (`request.invalid`).", body = ApiError),
        (status = 410, description = "The link was used, replaced or expired (`auth.invalid_password_link`).", body = ApiError),
        (status = 429, description = "Too many attempts from this address (`auth.address_rate_limited`).", body = ApiError, headers(("Retry-After" = u64, description = "Seconds until the next try is allowed."))),
        Malformed,
    ),
)]
async fn set_password(
    State(state): State<ServerState>,
    _: AttemptAllowed,
    At(at): At,
    JsonBody(request): JsonBody<SetPassword>,
) -> Result<Json<TokenPair>, ServerError> {
    accounts::set_password_with_link(
        &state.store,
        &state.passwords,
        &request.token,
        &request.password,
        at,
    )
    .await
    .map(Json)
}
