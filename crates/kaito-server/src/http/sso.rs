//! Single sign-on: whether an email's team uses its identity provider, the two
//! steps of a sign-in through the system browser, and the owner's settings.

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use kaito_api::{
    ApiError, SsoAvailability, SsoFinish, SsoRedirect, SsoSettings, SsoSettingsUpdate, SsoStart,
    TokenPair,
};
use serde::Deserialize;

use super::ServerState;
use super::extract::{AdminRole, At, AttemptAllowed, JsonBody, OwnerRole, Requires};
use super::openapi::{EmptyOk, Malformed, NotAllowed, SignedOut};
use super::reply::{Done, done};
use crate::error::ServerError;
use crate::sso::{OutboundHttp, settings, sign_in};

pub(super) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/v1/auth/sso", get(availability))
        .route("/v1/auth/sso/start", post(start))
        .route("/v1/auth/sso/finish", post(finish))
        .route(
            "/v1/team/sso",
            get(get_settings).put(put_settings).delete(remove_settings),
        )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct EmailQuery {
    /// The email someone is about to sign in with; only its domain is read.
    email: String,
}

/// Whether an email's team signs in through an identity provider, read from the
/// email's domain alone (it tells nobody whether an account exists).
#[utoipa::path(
    get,
    path = "/v1/auth/sso",
    tag = "accounts",
    params(EmailQuery),
    responses((status = 200, description = "What the sign-in page should offer.", body = SsoAvailability)),
)]
async fn availability(
    State(state): State<ServerState>,
    Query(query): Query<EmailQuery>,
) -> Result<Json<SsoAvailability>, ServerError> {
    sign_in::availability(&state.store, &query.email)
        .await
        .map(Json)
}

fn outbound(state: &ServerState) -> Result<OutboundHttp, ServerError> {
    OutboundHttp::new(state.sso_destinations)
}

/// Begins a sign-in through the team's identity provider: the page for the
/// system browser, which comes back to the app's loopback address.
#[utoipa::path(
    post,
    path = "/v1/auth/sso/start",
    tag = "accounts",
    request_body = SsoStart,
    responses(
        (status = 200, description = "Open `authorize_url` in the system browser.", body = SsoRedirect),
        (status = 404, description = "The email's domain does not sign in with SSO here (`sso.not_configured`).", body = ApiError),
        (status = 502, description = "The identity provider did not answer (`sso.provider_unreachable`).", body = ApiError),
        (status = 429, description = "Too many sign-in attempts from this address (`auth.address_rate_limited`).", body = ApiError),
        Malformed,
    ),
)]
async fn start(
    State(state): State<ServerState>,
    _: AttemptAllowed,
    At(at): At,
    JsonBody(request): JsonBody<SsoStart>,
) -> Result<Json<SsoRedirect>, ServerError> {
    let http = outbound(&state)?;
    sign_in::start(&state.store, (&state.key, &http), &request, at)
        .await
        .map(Json)
}

/// Finishes a sign-in with what came back on the redirect and the app's PKCE
/// verifier: the ID token is checked (signature, issuer, audience, expiry,
/// nonce) and the member with its email signed in.
#[utoipa::path(
    post,
    path = "/v1/auth/sso/finish",
    tag = "accounts",
    request_body = SsoFinish,
    responses(
        (status = 200, description = "Signed in.", body = TokenPair),
        (status = 401, description = "The sign-in expired or was finished (`sso.attempt_invalid`), the provider refused the code (`sso.provider_refused`), or the ID token failed a check (`sso.id_token_invalid`).", body = ApiError),
        (status = 403, description = "No active member has the email (`sso.no_member`), or the provider has not verified it (`sso.email_unverified`).", body = ApiError),
        (status = 502, description = "The identity provider did not answer (`sso.provider_unreachable`).", body = ApiError),
        (status = 429, description = "Too many sign-in attempts from this address (`auth.address_rate_limited`).", body = ApiError),
        Malformed,
    ),
)]
async fn finish(
    State(state): State<ServerState>,
    _: AttemptAllowed,
    At(at): At,
    JsonBody(answer): JsonBody<SsoFinish>,
) -> Result<Json<TokenPair>, ServerError> {
    let http = outbound(&state)?;
    sign_in::finish(&state.store, (&state.key, &http), &answer, at)
        .await
        .map(Json)
}

/// The team's identity provider settings (admins); the client secret is never
/// shown.
#[utoipa::path(
    get,
    path = "/v1/team/sso",
    tag = "accounts",
    responses(
        (status = 200, description = "The settings, or `configured: false`.", body = SsoSettings),
        SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn get_settings(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<SsoSettings>, ServerError> {
    settings::get(&state.store, &admin.caller).await.map(Json)
}

/// Sets the team's identity provider (owners). The provider's metadata is read
/// first: a wrong issuer is refused here, not at a member's sign-in.
#[utoipa::path(
    put,
    path = "/v1/team/sso",
    tag = "accounts",
    request_body = SsoSettingsUpdate,
    responses(
        (status = 200, description = "Saved.", body = SsoSettings),
        (status = 400, description = "A setting is wrong (`sso.invalid_settings`).", body = ApiError),
        (status = 409, description = "An email domain signs in to another team (`conflict`).", body = ApiError),
        (status = 502, description = "The issuer did not answer with OpenID metadata (`sso.provider_unreachable`).", body = ApiError),
        SignedOut, NotAllowed, Malformed,
    ),
    security(("bearer" = [])),
)]
async fn put_settings(
    State(state): State<ServerState>,
    owner: Requires<OwnerRole>,
    JsonBody(update): JsonBody<SsoSettingsUpdate>,
) -> Result<Json<SsoSettings>, ServerError> {
    let http = outbound(&state)?;
    settings::put(
        &state.store,
        (&state.key, &http),
        &owner.caller,
        &update,
        owner.at,
    )
    .await
    .map(Json)
}

/// Turns SSO off for the team (owners): everyone signs in with a password again.
#[utoipa::path(
    delete,
    path = "/v1/team/sso",
    tag = "accounts",
    responses(
        (status = 404, description = "The team has no identity provider (`sso.not_configured`).", body = ApiError),
        EmptyOk, SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn remove_settings(State(state): State<ServerState>, owner: Requires<OwnerRole>) -> Done {
    settings::remove(&state.store, &owner.caller, owner.at).await?;
    done()
}
