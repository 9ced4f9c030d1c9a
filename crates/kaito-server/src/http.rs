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
    AcceptInvite, AuditEventView, AuditPage, AuditPullRequest, BatchReceipt, ChainReport,
    CheckpointView, CodesView, CreatedApiToken, CreatedInvite, InviteView, LoginRequest, MeView,
    MemberView, NewApiToken, NewDevice, NewGrant, NewInvite, NewSharedToken, NewSink,
    RefreshRequest, RetentionSetting, Role, SeedView, SharedTokenView, SinkView, SmsMessageView,
    TokenPair,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

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
        .route("/v1/tokens/{token_id}/grants", post(grant))
        .route("/v1/grants/{grant_id}", axum::routing::delete(revoke_grant))
        .route("/v1/notifications", get(notifications))
        .route(
            "/v1/notifications/{notification_id}/read",
            post(mark_notification_read),
        )
        .route("/v1/groups", post(create_group))
        .route("/v1/groups/{group_id}/members", post(add_to_group))
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
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_request,
        ))
        .with_state(state)
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

/// `GET /metrics`: for Prometheus; counts only, so it needs no sign-in (restrict it
/// at the proxy if even counts are private).
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

/// `POST /v1/team/members`: an admin adds a member with a first password (or sends
/// an invite link instead); only an owner may add admins or owners.
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

async fn list_invites(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<Vec<InviteView>>, ServerError> {
    invites::pending(&state.store, &admin.caller.team_id, now_ms())
        .await
        .map(Json)
}

async fn revoke_invite(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Path(invite_id): Path<String>,
) -> Result<Json<serde_json::Value>, ServerError> {
    invites::revoke(&state.store, &admin.caller, &invite_id, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
}

/// `POST /v1/invites/accept`: no session yet; the invite token is the credential.
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
struct NotificationFilter {
    #[serde(default)]
    unread: bool,
}

async fn notifications(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
    Query(filter): Query<NotificationFilter>,
) -> Result<Json<Vec<kaito_api::NotificationView>>, ServerError> {
    shared::notifications(&state.store, &caller, filter.unread)
        .await
        .map(Json)
}

async fn mark_notification_read(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
    Path(notification_id): Path<String>,
) -> Result<Json<serde_json::Value>, ServerError> {
    shared::mark_read(&state.store, &caller, &notification_id, now_ms()).await?;
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

/// `POST /v1/audit/events`: the cursor pull API (admins, or `audit:read` tokens).
async fn audit_pull(
    State(state): State<ServerState>,
    reader: AuditReader,
    JsonBody(request): JsonBody<AuditPullRequest>,
) -> Result<Json<AuditPage>, ServerError> {
    audit::pull(&state.store, &reader.team_id, &request)
        .await
        .map(Json)
}

async fn audit_checkpoint(
    State(state): State<ServerState>,
    reader: AuditReader,
) -> Result<Json<CheckpointView>, ServerError> {
    audit::checkpoint(&state.store, &state.key, &reader.team_id, now_ms())
        .await
        .map(Json)
}

async fn audit_retention(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<RetentionSetting>, ServerError> {
    audit::retention(&state.store, &admin.caller.team_id)
        .await
        .map(Json)
}

/// Only an owner shortens how long the team's record is kept.
async fn set_audit_retention(
    State(state): State<ServerState>,
    owner: Requires<OwnerRole>,
    JsonBody(setting): JsonBody<RetentionSetting>,
) -> Result<Json<RetentionSetting>, ServerError> {
    audit::set_retention(&state.store, &owner.caller, setting, now_ms()).await?;
    Ok(Json(setting))
}

async fn list_sinks(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<Vec<SinkView>>, ServerError> {
    siem::list_sinks(&state.store, &admin.caller.team_id)
        .await
        .map(Json)
}

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

async fn remove_sink(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Path(sink_id): Path<String>,
) -> Result<Json<serde_json::Value>, ServerError> {
    siem::remove_sink(&state.store, &admin.caller, &sink_id, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
}

async fn create_api_token(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    JsonBody(request): JsonBody<NewApiToken>,
) -> Result<Json<CreatedApiToken>, ServerError> {
    api_tokens::create(&state.store, &admin.caller, &request, now_ms())
        .await
        .map(Json)
}

async fn revoke_api_token(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    Path(token_id): Path<String>,
) -> Result<Json<serde_json::Value>, ServerError> {
    api_tokens::revoke(&state.store, &admin.caller, &token_id, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
}

/// `POST /v1/sms/twilio`: Twilio's webhook. Signed calls are answered with an
/// empty `TwiML` `<Response/>` (no reply text), retries included.
async fn twilio_webhook(
    State(state): State<ServerState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<([(axum::http::HeaderName, &'static str); 1], &'static str), ServerError> {
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|value| value.to_str().ok());
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

fn header<'h>(headers: &'h axum::http::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// `POST /v1/sms/telnyx`: Telnyx's messaging webhook.
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

/// `POST /v1/sms/vonage`: the Vonage Messages API inbound webhook.
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

#[derive(Deserialize)]
struct NewNumber {
    phone_number: String,
    #[serde(default)]
    label: String,
}

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

#[derive(Deserialize)]
struct NumberGrant {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    group_id: Option<String>,
}

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

#[derive(Deserialize)]
struct AfterSeq {
    #[serde(default)]
    after: i64,
}

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

/// `GET /v1/sms/stream`: server-sent events, one `sms` event per message the caller
/// may read, with the message's seq as event id. A reconnect with `Last-Event-ID`
/// (or `?after=`) first replays what was missed. The stream ends when the caller's
/// session is revoked.
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
    let after = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
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

async fn revoke_device(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
    Path(device_id): Path<String>,
) -> Result<Json<serde_json::Value>, ServerError> {
    devices::revoke(&state.store, &caller, &device_id, now_ms()).await?;
    Ok(Json(serde_json::json!({})))
}

/// `POST /v1/events:batch`: a device's audit events, signed over the raw body.
async fn event_batch(
    State(state): State<ServerState>,
    Authenticated(caller): Authenticated,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<BatchReceipt>, ServerError> {
    let signature = headers
        .get("x-kaito-signature")
        .and_then(|value| value.to_str().ok());
    devices::ingest(&state.store, &caller, &body, signature, now_ms())
        .await
        .map(Json)
}
