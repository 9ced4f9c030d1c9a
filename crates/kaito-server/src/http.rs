//! The HTTP API (`/v1/…`). Handlers only translate: the work is in [`crate::accounts`].
//! Who may call what is in the handler's signature: [`Authenticated`] for any
//! signed-in member, [`Requires<AdminRole>`] and [`Requires<OwnerRole>`] above that.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use kaito_api::{
    AuditEventView, ChainReport, CodesView, LoginRequest, MeView, MemberView, NewGrant,
    NewSharedToken, RefreshRequest, Role, SeedView, SharedTokenView, TokenPair,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::accounts::{self, Caller};
use crate::custody::ServerKey;
use crate::error::ServerError;
use crate::ids::UserId;
use crate::store::Store;
use crate::{audit, shared};

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct ServerState {
    pub store: Store,
    /// Opens the seeds of server-managed tokens.
    pub key: Arc<ServerKey>,
}

/// Milliseconds since the Unix epoch, the unit of every stored time.
#[must_use]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|elapsed| i64::try_from(elapsed.as_millis()).ok())
        .unwrap_or(0)
}

pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/refresh", post(refresh))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/me", get(me))
        .route("/v1/team/members", get(members).post(add_member))
        .route("/v1/team/members/{user_id}/disable", post(disable_member))
        .route("/v1/tokens", get(list_tokens).post(add_token))
        .route("/v1/tokens/{token_id}/codes", get(codes))
        .route("/v1/tokens/{token_id}/seed", get(seed))
        .route("/v1/tokens/{token_id}/rotate", post(rotate))
        .route("/v1/tokens/{token_id}/grants", post(grant))
        .route("/v1/grants/{grant_id}", axum::routing::delete(revoke_grant))
        .route("/v1/groups", post(create_group))
        .route("/v1/groups/{group_id}/members", post(add_to_group))
        .route("/v1/audit/events", get(audit_events))
        .route("/v1/audit/verify", get(audit_verify))
        .with_state(state)
}

/// A JSON body whose rejection is a Kaito error (`{code, message}`), not plain text.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ServerError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(request, state)
            .await
            .map(|Json(value)| JsonBody(value))
            .map_err(|rejection| ServerError::BadRequest(rejection.body_text()))
    }
}

/// Any signed-in member, by their `Authorization: Bearer` access token.
#[derive(Debug)]
pub struct Authenticated(pub Caller);

impl FromRequestParts<ServerState> for Authenticated {
    type Rejection = ServerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(ServerError::Unauthenticated)?;
        accounts::authenticate(&state.store, token.trim(), now_ms())
            .await
            .map(Authenticated)
    }
}

/// A role a handler requires, at least.
pub trait RoleRequirement {
    const MINIMUM: Role;
}

#[derive(Debug)]
pub struct AdminRole;
impl RoleRequirement for AdminRole {
    const MINIMUM: Role = Role::Admin;
}

#[derive(Debug)]
pub struct OwnerRole;
impl RoleRequirement for OwnerRole {
    const MINIMUM: Role = Role::Owner;
}

/// A signed-in member holding `R`'s role or a higher one; anyone else gets 403.
#[derive(Debug)]
pub struct Requires<R: RoleRequirement> {
    pub caller: Caller,
    role: PhantomData<R>,
}

impl<R: RoleRequirement> FromRequestParts<ServerState> for Requires<R> {
    type Rejection = ServerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        let Authenticated(caller) = Authenticated::from_request_parts(parts, state).await?;
        if caller.role < R::MINIMUM {
            return Err(ServerError::Forbidden {
                have: caller.role,
                need: R::MINIMUM,
            });
        }
        Ok(Self {
            caller,
            role: PhantomData,
        })
    }
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
}

async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: crate::VERSION,
    })
}

async fn login(
    State(state): State<ServerState>,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Json<TokenPair>, ServerError> {
    accounts::login(&state.store, &request.email, &request.password, now_ms())
        .await
        .map(Json)
}

async fn refresh(
    State(state): State<ServerState>,
    JsonBody(request): JsonBody<RefreshRequest>,
) -> Result<Json<TokenPair>, ServerError> {
    accounts::refresh(&state.store, &request.refresh_token, now_ms())
        .await
        .map(Json)
}

async fn logout(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<serde_json::Value>, ServerError> {
    accounts::logout(&state.store, &caller, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
}

async fn me(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<MeView>, ServerError> {
    accounts::me(&state.store, &caller).await.map(Json)
}

async fn members(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<Vec<MemberView>>, ServerError> {
    accounts::members(&state.store, &admin.caller.team_id)
        .await
        .map(Json)
}

/// `POST /v1/team/members`: an admin adds a member with a first password (invite
/// links are to come); only an owner may add admins or owners.
#[derive(Debug, Deserialize)]
pub struct NewMember {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

#[derive(Serialize)]
struct Created {
    user_id: String,
}

async fn add_member(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    JsonBody(member): JsonBody<NewMember>,
) -> Result<Json<Created>, ServerError> {
    if member.role > Role::Member && admin.caller.role < Role::Owner {
        return Err(ServerError::Forbidden {
            have: admin.caller.role,
            need: Role::Owner,
        });
    }
    let user_id = accounts::create_user(
        &state.store,
        &admin.caller,
        (&member.email, &member.name, member.role),
        &member.password,
        now_ms(),
    )
    .await?;
    Ok(Json(Created {
        user_id: user_id.to_string(),
    }))
}

async fn disable_member(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Path(user_id): Path<String>,
) -> Result<Json<serde_json::Value>, ServerError> {
    let user_id = UserId::from_stored(user_id);
    if user_id == admin.caller.user_id {
        return Err(ServerError::BadRequest(
            "You cannot disable yourself.".to_owned(),
        ));
    }
    accounts::disable_user(&state.store, &admin.caller, &user_id, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
}

/// `{ "id": … }`: what a create answers.
#[derive(Serialize)]
struct CreatedId {
    id: String,
}

async fn add_token(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    JsonBody(request): JsonBody<NewSharedToken>,
) -> Result<Json<CreatedId>, ServerError> {
    let token_id = shared::add_token(
        &state.store,
        &state.key,
        &admin.caller,
        &request.uri,
        now_ms(),
    )
    .await?;
    Ok(Json(CreatedId {
        id: token_id.to_string(),
    }))
}

async fn list_tokens(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<SharedTokenView>>, ServerError> {
    shared::list_tokens(&state.store, &caller, now_ms())
        .await
        .map(Json)
}

async fn codes(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
    Path(token_id): Path<String>,
) -> Result<Json<CodesView>, ServerError> {
    shared::codes(&state.store, &state.key, &caller, &token_id, now_ms())
        .await
        .map(Json)
}

async fn seed(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
    Path(token_id): Path<String>,
) -> Result<Json<SeedView>, ServerError> {
    shared::seed(&state.store, &state.key, &caller, &token_id, now_ms())
        .await
        .map(Json)
}

async fn rotate(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Path(token_id): Path<String>,
    JsonBody(request): JsonBody<NewSharedToken>,
) -> Result<Json<serde_json::Value>, ServerError> {
    shared::rotate(
        &state.store,
        &state.key,
        &admin.caller,
        &token_id,
        &request.uri,
        now_ms(),
    )
    .await?;
    Ok(Json(serde_json::json!({})))
}

async fn grant(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Path(token_id): Path<String>,
    JsonBody(request): JsonBody<NewGrant>,
) -> Result<Json<CreatedId>, ServerError> {
    let grant_id =
        shared::grant(&state.store, &admin.caller, &token_id, &request, now_ms()).await?;
    Ok(Json(CreatedId {
        id: grant_id.to_string(),
    }))
}

async fn revoke_grant(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Path(grant_id): Path<String>,
) -> Result<Json<serde_json::Value>, ServerError> {
    shared::revoke_grant(&state.store, &admin.caller, &grant_id, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
}

#[derive(Deserialize)]
struct NewGroup {
    name: String,
}

async fn create_group(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    JsonBody(request): JsonBody<NewGroup>,
) -> Result<Json<CreatedId>, ServerError> {
    let group_id =
        shared::create_group(&state.store, &admin.caller, &request.name, now_ms()).await?;
    Ok(Json(CreatedId {
        id: group_id.to_string(),
    }))
}

#[derive(Deserialize)]
struct GroupMember {
    user_id: String,
}

async fn add_to_group(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Path(group_id): Path<String>,
    JsonBody(request): JsonBody<GroupMember>,
) -> Result<Json<serde_json::Value>, ServerError> {
    shared::add_to_group(
        &state.store,
        &admin.caller,
        &group_id,
        &request.user_id,
        now_ms(),
    )
    .await?;
    Ok(Json(serde_json::json!({})))
}

#[derive(Deserialize)]
struct EventPage {
    #[serde(default)]
    after: i64,
    #[serde(default = "default_page")]
    limit: i64,
}

fn default_page() -> i64 {
    100
}

async fn audit_events(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Query(page): Query<EventPage>,
) -> Result<Json<Vec<AuditEventView>>, ServerError> {
    audit::events(&state.store, &admin.caller.team_id, page.after, page.limit)
        .await
        .map(Json)
}

async fn audit_verify(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<ChainReport>, ServerError> {
    audit::verify(&state.store, &admin.caller.team_id)
        .await
        .map(Json)
}
