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
    AcceptInvite, ApiError, AuditEventView, AuditPage, AuditPullRequest, BatchReceipt, ChainReport,
    CheckpointView, CodesView, CreatedApiToken, CreatedInvite, EventBatch, GrantView, GroupView,
    InviteView, LoginRequest, MeView, MemberView, NewApiToken, NewDevice, NewGrant, NewInvite,
    NewSharedToken, NewSink, RefreshRequest, RetentionSetting, Role, SeedView, SharedTokenView,
    SinkView, SmsMessageView, TokenPair,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToResponse, ToSchema};

use crate::accounts::{self, Caller};
use crate::custody::ServerKey;
use crate::error::ServerError;
use crate::ids::UserId;
use crate::sms::{InboxWake, SmsArrived, SmsConfig};
use crate::store::{Backend, Store};
use crate::{api_tokens, audit, devices, invites, shared, siem, sms};

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct ServerState {
    pub store: Store,
    /// Opens the seeds of server-managed tokens.
    pub key: Arc<ServerKey>,
    pub sms: Arc<SmsConfig>,
    /// Wakes this replica's live SMS streams.
    pub sms_wakes: tokio::sync::broadcast::Sender<InboxWake>,
    /// The server's base URL as members reach it, for invite links.
    pub public_url: Option<String>,
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl ServerState {
    #[must_use]
    pub fn new(store: Store, key: ServerKey, sms: SmsConfig) -> Self {
        Self {
            store,
            key: Arc::new(key),
            sms: Arc::new(sms),
            sms_wakes: tokio::sync::broadcast::channel(1024).0,
            public_url: None,
            metrics: Arc::default(),
        }
    }

    #[must_use]
    pub fn with_public_url(mut self, public_url: Option<String>) -> Self {
        self.public_url = public_url;
        self
    }
}

impl ServerState {
    /// Wakes the live streams that may show a new message. On PostgreSQL the
    /// store's NOTIFY reaches every replica (this one too) through
    /// [`sms::relay_notifications`].
    fn announce(&self, arrived: SmsArrived) {
        if self.store.backend() == Backend::Sqlite {
            // No live subscriber is fine: the message is stored for the next fetch.
            let _ = self.sms_wakes.send(InboxWake::Arrived(arrived.team_id));
        }
    }

    /// Starts the work beside the API: SIEM delivery, audit retention and, on
    /// PostgreSQL, the relay that brings other replicas' SMS to this one's streams.
    /// The tasks stop when the set is dropped.
    pub fn spawn_background_tasks(&self) -> Result<tokio::task::JoinSet<()>, ServerError> {
        let mut tasks = tokio::task::JoinSet::new();
        if let Some(url) = self.store.postgres_url() {
            tasks.spawn(sms::relay_notifications(
                url.to_owned(),
                self.sms_wakes.clone(),
            ));
        }
        tasks.spawn(siem::Deliverer::new(self.store.clone(), self.key.clone())?.run_forever());
        tasks.spawn(audit::prune_forever(self.store.clone()));
        Ok(tasks)
    }
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
        .route("/v1/team/invites", get(list_invites).post(create_invite))
        .route(
            "/v1/team/invites/{invite_id}",
            axum::routing::delete(revoke_invite),
        )
        .route("/v1/invites/accept", post(accept_invite))
        .route("/v1/tokens", get(list_tokens).post(add_token))
        .route("/v1/tokens/{token_id}/codes", get(codes))
        .route("/v1/tokens/{token_id}/seed", get(seed))
        .route("/v1/tokens/{token_id}/rotate", post(rotate))
        .route("/v1/tokens/{token_id}/grants", get(list_grants).post(grant))
        .route("/v1/grants/{grant_id}", axum::routing::delete(revoke_grant))
        .route("/v1/notifications", get(notifications))
        .route(
            "/v1/notifications/{notification_id}/read",
            post(mark_notification_read),
        )
        .route("/v1/groups", get(list_groups).post(create_group))
        .route("/v1/groups/{group_id}/members", post(add_to_group))
        .route(
            "/v1/groups/{group_id}/members/{user_id}",
            axum::routing::delete(remove_from_group),
        )
        .route("/v1/audit/events", get(audit_events).post(audit_pull))
        .route("/v1/audit/verify", get(audit_verify))
        .route("/v1/audit/checkpoint", get(audit_checkpoint))
        .route(
            "/v1/audit/retention",
            get(audit_retention).put(set_audit_retention),
        )
        .route("/v1/siem/sinks", get(list_sinks).post(add_sink))
        .route(
            "/v1/siem/sinks/{sink_id}",
            axum::routing::delete(remove_sink),
        )
        .route("/v1/api-tokens", post(create_api_token))
        .route(
            "/v1/api-tokens/{token_id}",
            axum::routing::delete(revoke_api_token),
        )
        .route("/v1/devices", post(enroll_device))
        .route(
            "/v1/devices/{device_id}",
            axum::routing::delete(revoke_device),
        )
        .route("/v1/events:batch", post(event_batch))
        .route("/v1/sms/twilio", post(twilio_webhook))
        .route("/v1/sms/telnyx", post(telnyx_webhook))
        .route("/v1/sms/vonage", post(vonage_webhook))
        .route("/v1/sms/numbers", post(add_number))
        .route("/v1/sms/numbers/{number_id}/grants", post(grant_number))
        .route("/v1/sms/messages", get(sms_messages))
        .route("/v1/sms/stream", get(sms_stream))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_request,
        ))
        .with_state(state)
}

/// The `OpenAPI` document of [`router`]: every handler carries a `#[utoipa::path]`,
/// and this lists them in the router's order (the operations test fails when a
/// route is missing here). Schemas come in through the paths that use them.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Kaito team server",
        description = "Shared 2FA tokens, server-computed codes, the audit log and the SMS inbox of a Kaito team."
    ),
    paths(
        health,
        login,
        refresh,
        logout,
        me,
        members,
        add_member,
        disable_member,
        list_invites,
        create_invite,
        revoke_invite,
        accept_invite,
        list_tokens,
        add_token,
        codes,
        seed,
        rotate,
        list_grants,
        grant,
        revoke_grant,
        notifications,
        mark_notification_read,
        list_groups,
        create_group,
        add_to_group,
        remove_from_group,
        audit_events,
        audit_pull,
        audit_verify,
        audit_checkpoint,
        audit_retention,
        set_audit_retention,
        list_sinks,
        add_sink,
        remove_sink,
        create_api_token,
        revoke_api_token,
        enroll_device,
        revoke_device,
        event_batch,
        twilio_webhook,
        telnyx_webhook,
        vonage_webhook,
        add_number,
        grant_number,
        sms_messages,
        sms_stream,
        metrics,
        openapi,
    ),
    components(
        schemas(ApiError),
        responses(BadRequest, Unauthenticated, Forbidden, NotFound)
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "accounts", description = "Sign-in, the team's members, invites and groups."),
        (name = "tokens", description = "Shared 2FA tokens, their codes and seeds, grants, and notifications about them."),
        (name = "audit", description = "The team's hash-chained audit log."),
        (name = "siem", description = "Delivery of the audit log to SIEMs, and API tokens for pulling it."),
        (name = "sms", description = "The shared SMS inbox and the providers' webhooks."),
        (name = "devices", description = "Members' devices and the audit events they report."),
        (name = "operations", description = "Health, metrics and this document."),
    )
)]
pub struct ApiDoc;

/// The `bearer` scheme the signed-in operations name. Added here because the
/// derive has no syntax for security schemes.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(utoipa::openapi::Components::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(
                            "A session's access token from `/v1/auth/login`. `POST /v1/audit/events` \
                             and `GET /v1/audit/checkpoint` also take an API token (`kat_…`) with \
                             the `audit:read` scope.",
                        ))
                        .build(),
                ),
            );
    }
}

// Reusable error answers; each is an [`ApiError`] body. Never built: they only
// name a status's meaning once for every operation that can answer it.

/// The body or a parameter is not valid (`request.invalid`).
#[derive(ToResponse)]
#[allow(dead_code)]
struct BadRequest(ApiError);

/// Sign in first: the access token is missing, expired or revoked (`auth.unauthenticated`).
#[derive(ToResponse)]
#[allow(dead_code)]
struct Unauthenticated(ApiError);

/// The caller's role is too low for this (`auth.forbidden`).
#[derive(ToResponse)]
#[allow(dead_code)]
struct Forbidden(ApiError);

/// No such thing in the caller's team (`not_found`).
#[derive(ToResponse)]
#[allow(dead_code)]
struct NotFound(ApiError);

/// The fields of Twilio's webhook form that Kaito reads; Twilio sends more.
#[derive(ToSchema)]
#[schema(rename_all = "PascalCase")]
#[allow(dead_code)] // Documentation only: the handler reads the raw form to check its signature.
struct TwilioForm {
    /// Twilio's message id: a retry carries the same one.
    message_sid: String,
    /// The inbox number, E.164.
    to: String,
    /// The sender, E.164.
    from: String,
    /// The text.
    body: String,
}

/// Built once: the document is the same for the life of the process.
static OPENAPI: std::sync::LazyLock<utoipa::openapi::OpenApi> =
    std::sync::LazyLock::new(ApiDoc::openapi);

/// This API's `OpenAPI` 3.1 document.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "operations",
    responses(
        (status = 200, description = "The OpenAPI document.", body = Object, content_type = "application/json"),
    ),
)]
async fn openapi() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(&OPENAPI)
}

/// Counts and times every routed request by its route pattern.
async fn count_request(
    State(state): State<ServerState>,
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    state.metrics.observe_request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Prometheus metrics.
///
/// `GET /metrics`: for Prometheus; counts only, so it needs no sign-in (restrict it
/// at the proxy if even counts are private).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "OpenMetrics text.", body = String, content_type = "application/openmetrics-text"),
    ),
)]
async fn metrics(
    State(state): State<ServerState>,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String), ServerError> {
    let text = state
        .metrics
        .render(&state.store, state.sms_wakes.receiver_count())
        .await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    ))
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
        let token = bearer(parts)?;
        accounts::authenticate(&state.store, token, now_ms())
            .await
            .map(Authenticated)
    }
}

fn bearer(parts: &Parts) -> Result<&str, ServerError> {
    parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(ServerError::Unauthenticated)
}

/// Who may read the team's audit log: an admin's session, or an API token with the
/// `audit:read` scope (a SIEM).
#[derive(Debug)]
pub struct AuditReader {
    pub team_id: crate::ids::TeamId,
}

impl FromRequestParts<ServerState> for AuditReader {
    type Rejection = ServerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        if token.starts_with(api_tokens::PREFIX) {
            let client = api_tokens::authenticate(&state.store, token).await?;
            if !client
                .scopes
                .iter()
                .any(|scope| scope == api_tokens::AUDIT_READ)
            {
                return Err(ServerError::MissingScope(api_tokens::AUDIT_READ));
            }
            return Ok(Self {
                team_id: client.team_id,
            });
        }
        let admin = Requires::<AdminRole>::from_request_parts(parts, state).await?;
        Ok(Self {
            team_id: admin.caller.team_id,
        })
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

#[derive(Serialize, ToSchema)]
struct Health {
    status: &'static str,
    version: &'static str,
}

/// Whether the server is up, and its version.
#[utoipa::path(
    get,
    path = "/v1/health",
    tag = "operations",
    responses(
        (status = 200, description = "The server is up.", body = Health),
    ),
)]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: crate::VERSION,
    })
}

/// Signs in with an email and a password.
#[utoipa::path(
    post,
    path = "/v1/auth/login",
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in.", body = TokenPair),
        (status = 400, response = BadRequest),
        (status = 401, description = "The email or the password is wrong (`auth.invalid_credentials`).", body = ApiError),
        (status = 429, description = "Too many failed sign-ins for this account (`auth.rate_limited`).", body = ApiError, headers(("Retry-After" = u64, description = "Seconds until the next try is allowed."))),
    ),
)]
async fn login(
    State(state): State<ServerState>,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Json<TokenPair>, ServerError> {
    accounts::login(&state.store, &request.email, &request.password, now_ms())
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
        (status = 400, response = BadRequest),
        (status = 401, description = "The refresh token is no longer valid (`auth.invalid_refresh`).", body = ApiError),
    ),
)]
async fn refresh(
    State(state): State<ServerState>,
    JsonBody(request): JsonBody<RefreshRequest>,
) -> Result<Json<TokenPair>, ServerError> {
    accounts::refresh(&state.store, &request.refresh_token, now_ms())
        .await
        .map(Json)
}

/// Ends the caller's session.
#[utoipa::path(
    post,
    path = "/v1/auth/logout",
    tag = "accounts",
    responses(
        (status = 200, description = "Done; the body is an empty JSON object.", body = Object, example = json!({})),
        (status = 401, response = Unauthenticated),
    ),
    security(("bearer" = [])),
)]
async fn logout(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<serde_json::Value>, ServerError> {
    accounts::logout(&state.store, &caller, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
}

/// The signed-in member and their team.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "accounts",
    responses(
        (status = 200, description = "The caller.", body = MeView),
        (status = 401, response = Unauthenticated),
    ),
    security(("bearer" = [])),
)]
async fn me(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
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
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
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

/// `POST /v1/team/members`: an admin adds a member with a first password (or sends
/// an invite link instead); only an owner may add admins or owners.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewMember {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
struct Created {
    user_id: String,
}

/// Adds a member with a first password (admins).
#[utoipa::path(
    post,
    path = "/v1/team/members",
    tag = "accounts",
    request_body = NewMember,
    responses(
        (status = 200, description = "The new member.", body = Created),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not an admin, or an admin adding an admin or owner (`auth.forbidden`).", body = ApiError),
        (status = 409, description = "An account with this email exists already (`account.email_taken`).", body = ApiError),
    ),
    security(("bearer" = [])),
)]
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

/// Disables a member and ends their sessions (admins).
#[utoipa::path(
    post,
    path = "/v1/team/members/{user_id}/disable",
    tag = "accounts",
    params(
        ("user_id" = String, Path, description = "The member to disable."),
    ),
    responses(
        (status = 200, description = "Done; the body is an empty JSON object.", body = Object, example = json!({})),
        (status = 400, description = "Callers cannot disable themselves (`request.invalid`).", body = ApiError),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = [])),
)]
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

/// Invites someone by email (admins; only an owner invites admins or owners).
#[utoipa::path(
    post,
    path = "/v1/team/invites",
    tag = "accounts",
    request_body = NewInvite,
    responses(
        (status = 200, description = "The invite; its token is shown this once.", body = CreatedInvite),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 409, description = "An account with this email exists already (`account.email_taken`).", body = ApiError),
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
        now_ms(),
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
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = [])),
)]
async fn list_invites(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<Vec<InviteView>>, ServerError> {
    invites::pending(&state.store, &admin.caller.team_id, now_ms())
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
        (status = 200, description = "Done; the body is an empty JSON object.", body = Object, example = json!({})),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = [])),
)]
async fn revoke_invite(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Path(invite_id): Path<String>,
) -> Result<Json<serde_json::Value>, ServerError> {
    invites::revoke(&state.store, &admin.caller, &invite_id, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
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
        (status = 400, response = BadRequest),
        (status = 409, description = "An account with this email exists already (`account.email_taken`).", body = ApiError),
        (status = 410, description = "The invite was used, revoked or expired (`invite.invalid`).", body = ApiError),
    ),
)]
async fn accept_invite(
    State(state): State<ServerState>,
    JsonBody(request): JsonBody<AcceptInvite>,
) -> Result<Json<TokenPair>, ServerError> {
    invites::accept(
        &state.store,
        &request.token,
        (&request.name, &request.password),
        now_ms(),
    )
    .await
    .map(Json)
}

/// `{ "id": … }`: what a create answers.
#[derive(Serialize, ToSchema)]
struct CreatedId {
    id: String,
}

/// Adds a shared token by its `otpauth://` URI (admins).
#[utoipa::path(
    post,
    path = "/v1/tokens",
    tag = "tokens",
    request_body = NewSharedToken,
    responses(
        (status = 200, description = "The new token's id.", body = CreatedId),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = [])),
)]
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

/// The shared tokens the caller may use or manage.
#[utoipa::path(
    get,
    path = "/v1/tokens",
    tag = "tokens",
    responses(
        (status = 200, description = "The caller's shared tokens; never their seeds.", body = Vec<SharedTokenView>),
        (status = 401, response = Unauthenticated),
    ),
    security(("bearer" = [])),
)]
async fn list_tokens(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<SharedTokenView>>, ServerError> {
    shared::list_tokens(&state.store, &caller, now_ms())
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
        (status = 401, response = Unauthenticated),
        (status = 403, description = "The caller holds no live grant to the token (`grant.none`).", body = ApiError),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = [])),
)]
async fn codes(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
    Path(token_id): Path<String>,
) -> Result<Json<CodesView>, ServerError> {
    shared::codes(&state.store, &state.key, &caller, &token_id, now_ms())
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
        (status = 401, response = Unauthenticated),
        (status = 403, description = "The caller's grant is code-only (`grant.code_only`), or there is none (`grant.none`).", body = ApiError),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = [])),
)]
async fn seed(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
    Path(token_id): Path<String>,
) -> Result<Json<SeedView>, ServerError> {
    shared::seed(&state.store, &state.key, &caller, &token_id, now_ms())
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
        (status = 200, description = "Done; the body is an empty JSON object.", body = Object, example = json!({})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = [])),
)]
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
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = [])),
)]
async fn list_grants(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Path(token_id): Path<String>,
) -> Result<Json<Vec<GrantView>>, ServerError> {
    shared::grants(&state.store, &admin.caller.team_id, &token_id, now_ms())
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
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = [])),
)]
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

/// Revokes a grant (admins).
#[utoipa::path(
    delete,
    path = "/v1/grants/{grant_id}",
    tag = "tokens",
    params(
        ("grant_id" = String, Path, description = "The grant to revoke."),
    ),
    responses(
        (status = 200, description = "Done; the body is an empty JSON object.", body = Object, example = json!({})),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = [])),
)]
async fn revoke_grant(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Path(grant_id): Path<String>,
) -> Result<Json<serde_json::Value>, ServerError> {
    shared::revoke_grant(&state.store, &admin.caller, &grant_id, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct NotificationFilter {
    /// Only those not yet read.
    #[serde(default)]
    unread: bool,
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
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
    ),
    security(("bearer" = [])),
)]
async fn notifications(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
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
        (status = 200, description = "Done; the body is an empty JSON object.", body = Object, example = json!({})),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = [])),
)]
async fn mark_notification_read(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
    Path(notification_id): Path<String>,
) -> Result<Json<serde_json::Value>, ServerError> {
    shared::mark_read(&state.store, &caller, &notification_id, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
}

/// The team's groups and their members, by name (admins).
#[utoipa::path(
    get,
    path = "/v1/groups",
    tag = "accounts",
    responses(
        (status = 200, description = "Every group of the caller's team.", body = Vec<GroupView>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
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

#[derive(Deserialize, ToSchema)]
struct NewGroup {
    name: String,
}

/// Creates a group of members, for grants (admins).
#[utoipa::path(
    post,
    path = "/v1/groups",
    tag = "accounts",
    request_body = NewGroup,
    responses(
        (status = 200, description = "The new group's id.", body = CreatedId),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 409, description = "The team has a group of this name already (`conflict`).", body = ApiError),
    ),
    security(("bearer" = [])),
)]
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

#[derive(Deserialize, ToSchema)]
struct GroupMember {
    user_id: String,
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
        (status = 200, description = "Done; the body is an empty JSON object.", body = Object, example = json!({})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = [])),
)]
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
        (status = 200, description = "Done; the body is an empty JSON object.", body = Object, example = json!({})),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, description = "No such group in the caller's team, or the user is not in it (`not_found`).", body = ApiError),
    ),
    security(("bearer" = [])),
)]
async fn remove_from_group(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Path((group_id, user_id)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ServerError> {
    shared::remove_from_group(&state.store, &admin.caller, &group_id, &user_id, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EventPage {
    /// Events after this seq.
    #[serde(default)]
    after: i64,
    #[serde(default = "default_page")]
    #[param(default = default_page)]
    limit: i64,
    /// Only this kind (`code.served`), or every kind under a prefix ending in `.` (`code.`).
    #[serde(default)]
    kind: Option<String>,
    /// Only events by this user (or device) id.
    #[serde(default)]
    actor: Option<String>,
    /// Only events about this subject (a token, user, group… id).
    #[serde(default)]
    subject: Option<String>,
    /// Only events at or after this time (Unix milliseconds).
    #[serde(default)]
    from: Option<i64>,
    /// Only events before this time (Unix milliseconds).
    #[serde(default)]
    to: Option<i64>,
}

impl EventPage {
    fn filter(self) -> audit::EventFilter {
        // A form's empty field (`?kind=`) means "any", not "the empty kind".
        let given = |text: Option<String>| text.filter(|text| !text.is_empty());
        audit::EventFilter {
            kind: given(self.kind),
            actor: given(self.actor),
            subject: given(self.subject),
            from: self.from,
            to: self.to,
        }
    }
}

fn default_page() -> i64 {
    100
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
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
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
        &page.filter(),
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
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
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
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Neither an admin nor an API token with `audit:read` (`auth.forbidden`, `auth.scope`).", body = ApiError),
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
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Neither an admin nor an API token with `audit:read` (`auth.forbidden`, `auth.scope`).", body = ApiError),
    ),
    security(("bearer" = [])),
)]
async fn audit_checkpoint(
    State(state): State<ServerState>,
    reader: AuditReader,
) -> Result<Json<CheckpointView>, ServerError> {
    audit::checkpoint(&state.store, &state.key, &reader.team_id, now_ms())
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
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
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
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = [])),
)]
async fn set_audit_retention(
    State(state): State<ServerState>,
    owner: Requires<OwnerRole>,
    JsonBody(setting): JsonBody<RetentionSetting>,
) -> Result<Json<RetentionSetting>, ServerError> {
    audit::set_retention(&state.store, &owner.caller, setting, now_ms()).await?;
    Ok(Json(setting))
}

/// The team's SIEM sinks and how their delivery goes (admins).
#[utoipa::path(
    get,
    path = "/v1/siem/sinks",
    tag = "siem",
    responses(
        (status = 200, description = "The sinks.", body = Vec<SinkView>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
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
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = [])),
)]
async fn add_sink(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    JsonBody(sink): JsonBody<NewSink>,
) -> Result<Json<CreatedId>, ServerError> {
    let sink_id = siem::add_sink(&state.store, &state.key, &admin.caller, &sink, now_ms()).await?;
    Ok(Json(CreatedId {
        id: sink_id.to_string(),
    }))
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
        (status = 200, description = "Done; the body is an empty JSON object.", body = Object, example = json!({})),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = [])),
)]
async fn remove_sink(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Path(sink_id): Path<String>,
) -> Result<Json<serde_json::Value>, ServerError> {
    siem::remove_sink(&state.store, &admin.caller, &sink_id, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
}

/// Creates an API token for a SIEM (admins).
#[utoipa::path(
    post,
    path = "/v1/api-tokens",
    tag = "siem",
    request_body = NewApiToken,
    responses(
        (status = 200, description = "The token; its secret is shown this once.", body = CreatedApiToken),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = [])),
)]
async fn create_api_token(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    JsonBody(request): JsonBody<NewApiToken>,
) -> Result<Json<CreatedApiToken>, ServerError> {
    api_tokens::create(&state.store, &admin.caller, &request, now_ms())
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
        (status = 200, description = "Done; the body is an empty JSON object.", body = Object, example = json!({})),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = [])),
)]
async fn revoke_api_token(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Path(token_id): Path<String>,
) -> Result<Json<serde_json::Value>, ServerError> {
    api_tokens::revoke(&state.store, &admin.caller, &token_id, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
}

/// Twilio's inbound SMS webhook.
///
/// `POST /v1/sms/twilio`: Twilio's webhook. Signed calls are answered with an
/// empty `TwiML` `<Response/>` (no reply text), retries included.
#[utoipa::path(
    post,
    path = "/v1/sms/twilio",
    tag = "sms",
    params(
        ("X-Twilio-Signature" = String, Header, description = "Base64 HMAC-SHA1 under the auth token over the webhook URL and the sorted form fields."),
    ),
    request_body(content = inline(TwilioForm), content_type = "application/x-www-form-urlencoded", description = "Twilio's form; every field is signed, including those Kaito does not read."),
    responses(
        (status = 200, description = "Stored, or a retry of a message stored already.", body = String, content_type = "text/xml", example = "<Response/>"),
        (status = 400, description = "A field Kaito reads is missing (`request.invalid`).", body = ApiError),
        (status = 403, description = "The signature is wrong or missing (`signature.invalid`).", body = ApiError),
        (status = 404, description = "Twilio is not configured on this server (`not_found`).", body = ApiError),
    ),
)]
async fn twilio_webhook(
    State(state): State<ServerState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<([(axum::http::HeaderName, &'static str); 1], &'static str), ServerError> {
    let signature = header(&headers, "x-twilio-signature");
    if let Some(arrived) =
        sms::receive_twilio(&state.store, &state.sms, signature, &body, now_ms()).await?
    {
        state.announce(arrived);
    }
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/xml")],
        "<Response/>",
    ))
}

/// A request header's value as text (`None` when absent or not text).
fn header<'h>(headers: &'h axum::http::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// Telnyx's messaging webhook.
///
/// `POST /v1/sms/telnyx`: Telnyx's messaging webhook.
#[utoipa::path(
    post,
    path = "/v1/sms/telnyx",
    tag = "sms",
    params(
        ("telnyx-signature-ed25519" = String, Header, description = "Base64 Ed25519 signature over `{telnyx-timestamp}|{body}`."),
        ("telnyx-timestamp" = String, Header, description = "Unix seconds; refused when over 5 minutes off."),
    ),
    request_body(content = Object, content_type = "application/json", description = "A Telnyx event, verified over its raw bytes. Only `message.received` events are stored; Kaito reads `data.event_type` and `data.payload` `id`, `to[0].phone_number`, `from.phone_number` and `text`."),
    responses(
        (status = 200, description = "Done; the body is an empty JSON object.", body = Object, example = json!({})),
        (status = 400, description = "Not JSON, or a field Kaito reads is missing (`request.invalid`).", body = ApiError),
        (status = 403, description = "The signature is wrong or missing (`signature.invalid`), or its timestamp over 5 minutes off (`signature.stale`).", body = ApiError),
        (status = 404, description = "Telnyx is not configured on this server (`not_found`).", body = ApiError),
    ),
)]
async fn telnyx_webhook(
    State(state): State<ServerState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ServerError> {
    if let Some(arrived) = sms::receive_telnyx(
        &state.store,
        &state.sms,
        header(&headers, "telnyx-signature-ed25519"),
        header(&headers, "telnyx-timestamp"),
        &body,
        now_ms(),
    )
    .await?
    {
        state.announce(arrived);
    }
    Ok(Json(serde_json::json!({})))
}

/// The Vonage Messages API inbound webhook.
///
/// `POST /v1/sms/vonage`: the Vonage Messages API inbound webhook, signed with
/// `Authorization: Bearer` a JWT (HS256 under the signature secret) whose
/// `payload_hash` is the body's SHA-256.
#[utoipa::path(
    post,
    path = "/v1/sms/vonage",
    tag = "sms",
    request_body(content = Object, content_type = "application/json", description = "A Vonage inbound message, verified over its raw bytes. Only `channel: sms` messages are stored; Kaito reads `message_uuid`, `to`, `from` and `text`."),
    responses(
        (status = 200, description = "Done; the body is an empty JSON object.", body = Object, example = json!({})),
        (status = 400, description = "Not JSON, or a field Kaito reads is missing (`request.invalid`).", body = ApiError),
        (status = 403, description = "The JWT is wrong, missing or not for this body (`signature.invalid`), or over 5 minutes old (`signature.stale`).", body = ApiError),
        (status = 404, description = "Vonage is not configured on this server (`not_found`).", body = ApiError),
    ),
)]
async fn vonage_webhook(
    State(state): State<ServerState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ServerError> {
    if let Some(arrived) = sms::receive_vonage(
        &state.store,
        &state.sms,
        header(&headers, "authorization"),
        &body,
        now_ms(),
    )
    .await?
    {
        state.announce(arrived);
    }
    Ok(Json(serde_json::json!({})))
}

#[derive(Deserialize, ToSchema)]
struct NewNumber {
    phone_number: String,
    #[serde(default)]
    label: String,
}

/// Adds a phone number to the shared SMS inbox (admins).
#[utoipa::path(
    post,
    path = "/v1/sms/numbers",
    tag = "sms",
    request_body = NewNumber,
    responses(
        (status = 200, description = "The new number's id.", body = CreatedId),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 409, description = "The number is held already (`conflict`).", body = ApiError),
    ),
    security(("bearer" = [])),
)]
async fn add_number(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    JsonBody(request): JsonBody<NewNumber>,
) -> Result<Json<CreatedId>, ServerError> {
    let number_id = sms::add_number(
        &state.store,
        &admin.caller,
        &request.phone_number,
        &request.label,
        now_ms(),
    )
    .await?;
    Ok(Json(CreatedId {
        id: number_id.to_string(),
    }))
}

/// Exactly one of `user_id`, `group_id`.
#[derive(Deserialize, ToSchema)]
struct NumberGrant {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    group_id: Option<String>,
}

/// Lets a member or a group read a number's messages (admins).
#[utoipa::path(
    post,
    path = "/v1/sms/numbers/{number_id}/grants",
    tag = "sms",
    params(
        ("number_id" = String, Path, description = "The phone number."),
    ),
    request_body = NumberGrant,
    responses(
        (status = 200, description = "Done; the body is an empty JSON object.", body = Object, example = json!({})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = [])),
)]
async fn grant_number(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Path(number_id): Path<String>,
    JsonBody(request): JsonBody<NumberGrant>,
) -> Result<Json<serde_json::Value>, ServerError> {
    let subject =
        accounts::GrantSubject::from_ids(request.user_id.as_deref(), request.group_id.as_deref())?;
    sms::grant_number(&state.store, &admin.caller, &number_id, &subject, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AfterSeq {
    /// Messages after this seq.
    #[serde(default)]
    after: i64,
}

/// Text messages the caller may read, after a seq.
#[utoipa::path(
    get,
    path = "/v1/sms/messages",
    tag = "sms",
    params(
        AfterSeq,
    ),
    responses(
        (status = 200, description = "Up to 500 messages, oldest first.", body = Vec<SmsMessageView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
    ),
    security(("bearer" = [])),
)]
async fn sms_messages(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
    Query(query): Query<AfterSeq>,
) -> Result<Json<Vec<SmsMessageView>>, ServerError> {
    sms::messages_for(&state.store, &caller, query.after, 500)
        .await
        .map(Json)
}

/// What a live stream holds between events.
struct LiveInbox {
    store: Store,
    caller: Caller,
    wakes: tokio::sync::broadcast::Receiver<InboxWake>,
    cursor: i64,
    pending: std::collections::VecDeque<SmsMessageView>,
}

/// Text messages the caller may read, live.
///
/// `GET /v1/sms/stream`: server-sent events, one `sms` event per message the caller
/// may read, with the message's seq as event id. A reconnect with `Last-Event-ID`
/// (or `?after=`) first replays what was missed. The stream ends when the caller's
/// session is revoked.
#[utoipa::path(
    get,
    path = "/v1/sms/stream",
    tag = "sms",
    params(
        AfterSeq,
        ("Last-Event-ID" = Option<i64>, Header, description = "On reconnect: the last seq received; overrides `after`."),
    ),
    responses(
        (status = 200, description = "Server-sent events: each `sms` event's data is an `SmsMessageView` as JSON, its id the message's seq.", body = String, content_type = "text/event-stream"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
    ),
    security(("bearer" = [])),
)]
async fn sms_stream(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
    headers: axum::http::HeaderMap,
    Query(query): Query<AfterSeq>,
) -> Result<
    axum::response::sse::Sse<
        impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
    >,
    ServerError,
> {
    let after = header(&headers, "last-event-id")
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(query.after);
    // Subscribed before the backlog is read, so nothing falls between the two.
    let wakes = state.sms_wakes.subscribe();
    let backlog = sms::messages_for(&state.store, &caller, after, 500).await?;
    let inbox = LiveInbox {
        store: state.store.clone(),
        caller,
        wakes,
        cursor: after,
        pending: backlog.into(),
    };
    let stream = futures_util::stream::unfold(inbox, |mut inbox| async move {
        loop {
            if let Some(message) = inbox.pending.pop_front() {
                inbox.cursor = inbox.cursor.max(message.seq);
                let event = axum::response::sse::Event::default()
                    .event("sms")
                    .id(message.seq.to_string())
                    .json_data(&message)
                    .ok()?;
                return Some((Ok(event), inbox));
            }
            match inbox.wakes.recv().await {
                Ok(InboxWake::Arrived(team_id)) if team_id != inbox.caller.team_id => {}
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    if !accounts::still_signed_in(&inbox.store, &inbox.caller, now_ms())
                        .await
                        .unwrap_or(false)
                    {
                        return None;
                    }
                    match sms::messages_for(&inbox.store, &inbox.caller, inbox.cursor, 500).await {
                        Ok(messages) => inbox.pending.extend(messages),
                        Err(error) => {
                            tracing::warn!(%error, "live SMS stream ended");
                            return None;
                        }
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(axum::response::sse::Sse::new(stream).keep_alive(axum::response::sse::KeepAlive::default()))
}

/// Enrolls a device of the caller with its Ed25519 public key.
#[utoipa::path(
    post,
    path = "/v1/devices",
    tag = "devices",
    request_body = NewDevice,
    responses(
        (status = 200, description = "The new device's id.", body = CreatedId),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 409, description = "This public key is enrolled already (`conflict`).", body = ApiError),
    ),
    security(("bearer" = [])),
)]
async fn enroll_device(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
    JsonBody(device): JsonBody<NewDevice>,
) -> Result<Json<CreatedId>, ServerError> {
    let device_id = devices::enroll(&state.store, &caller, &device, now_ms()).await?;
    Ok(Json(CreatedId {
        id: device_id.to_string(),
    }))
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
        (status = 200, description = "Done; the body is an empty JSON object.", body = Object, example = json!({})),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = [])),
)]
async fn revoke_device(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
    Path(device_id): Path<String>,
) -> Result<Json<serde_json::Value>, ServerError> {
    devices::revoke(&state.store, &caller, &device_id, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
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
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "The signature is wrong or missing (`signature.invalid`), or the device is not the caller's (`device.unknown`).", body = ApiError),
    ),
    security(("bearer" = [])),
)]
async fn event_batch(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<BatchReceipt>, ServerError> {
    let signature = header(&headers, "x-kaito-signature");
    devices::ingest(&state.store, &caller, &body, signature, now_ms())
        .await
        .map(Json)
}
