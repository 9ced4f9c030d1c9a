//! A second factor for Kaito accounts: the sign-in's second step, setting up and
//! turning off an authenticator, and an admin's reset of a member's.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use kaito_api::{
    ApiError, CurrentPassword, EnrolChallenge, EnrolledSignIn, MfaAnswer, MfaPolicy, MfaStatus,
    RecoveryCodes, TokenPair, TotpConfirm, TotpEnrolment,
};

use super::ServerState;
use super::extract::{
    AdminRole, At, AttemptAllowed, Authenticated, IdPath, JsonBody, OwnerRole, Requires,
};
use super::openapi::{EmptyOk, Malformed, Missing, NotAllowed, SignedOut};
use super::reply::{Done, done};
use crate::accounts::{mfa, mfa_policy};
use crate::error::ServerError;
use crate::ids::UserId;

pub(super) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/v1/auth/mfa", post(answer_challenge))
        .route("/v1/auth/mfa/enrol", post(begin_enrolment))
        .route("/v1/auth/mfa/enrol/confirm", post(confirm_enrolment))
        .route("/v1/team/mfa-policy", get(policy).put(set_policy))
        .route("/v1/me/mfa", get(my_mfa))
        .route("/v1/me/mfa/totp", post(begin_totp))
        .route("/v1/me/mfa/totp/confirm", post(confirm_totp))
        .route("/v1/me/mfa/remove", post(remove_mfa))
        .route("/v1/me/mfa/recovery-codes", post(new_recovery_codes))
        .route(
            "/v1/team/members/{user_id}/mfa/reset",
            post(reset_member_mfa),
        )
}

/// The second step of signing in: the challenge the password step answered, and
/// the authenticator's current code or an unused recovery code.
#[utoipa::path(
    post,
    path = "/v1/auth/mfa",
    tag = "accounts",
    request_body = MfaAnswer,
    responses(
        (status = 200, description = "Signed in.", body = TokenPair),
        (status = 401, description = "The code is wrong or used (`auth.invalid_second_factor`), or the challenge expired or was answered (`auth.mfa_challenge_invalid`).", body = ApiError),
        (status = 429, description = "Too many failed sign-ins for this account (`auth.rate_limited`) or attempts from this address (`auth.address_rate_limited`).", body = ApiError, headers(("Retry-After" = u64, description = "Seconds until the next try is allowed."))),
        Malformed,
    ),
)]
async fn answer_challenge(
    State(state): State<ServerState>,
    _: AttemptAllowed,
    At(at): At,
    JsonBody(answer): JsonBody<MfaAnswer>,
) -> Result<Json<TokenPair>, ServerError> {
    mfa::complete_login(&state.store, &state.key, &answer, at)
        .await
        .map(Json)
}

/// For a sign-in whose team requires a second factor the account lacks (the
/// challenge's methods are `enrol_totp`): a new authenticator secret to scan.
#[utoipa::path(
    post,
    path = "/v1/auth/mfa/enrol",
    tag = "accounts",
    request_body = EnrolChallenge,
    responses(
        (status = 200, description = "The secret and its otpauth:// link; not in force until its first code.", body = TotpEnrolment),
        (status = 401, description = "The challenge expired, was used, or is not an enrolment's (`auth.mfa_challenge_invalid`).", body = ApiError),
        (status = 429, description = "Too many attempts from this address (`auth.address_rate_limited`).", body = ApiError),
        Malformed,
    ),
)]
async fn begin_enrolment(
    State(state): State<ServerState>,
    _: AttemptAllowed,
    At(at): At,
    JsonBody(request): JsonBody<EnrolChallenge>,
) -> Result<Json<TotpEnrolment>, ServerError> {
    mfa_policy::begin_enrolment(&state.store, &state.key, &request.challenge, at)
        .await
        .map(Json)
}

/// Finishes that sign-in with the new authenticator's first code: signed in, with
/// recovery codes shown this once. A wrong code counts against the failure limit.
#[utoipa::path(
    post,
    path = "/v1/auth/mfa/enrol/confirm",
    tag = "accounts",
    request_body = MfaAnswer,
    responses(
        (status = 200, description = "Signed in; the recovery codes.", body = EnrolledSignIn),
        (status = 401, description = "Not the new authenticator's code (`auth.invalid_second_factor`), or the challenge expired or was used (`auth.mfa_challenge_invalid`).", body = ApiError),
        (status = 409, description = "No authenticator is being set up: ask for the secret first (`mfa.state`).", body = ApiError),
        (status = 429, description = "Too many failed sign-ins for this account (`auth.rate_limited`) or attempts from this address (`auth.address_rate_limited`).", body = ApiError),
        Malformed,
    ),
)]
async fn confirm_enrolment(
    State(state): State<ServerState>,
    _: AttemptAllowed,
    At(at): At,
    JsonBody(answer): JsonBody<MfaAnswer>,
) -> Result<Json<EnrolledSignIn>, ServerError> {
    mfa_policy::confirm_enrolment(
        &state.store,
        &state.key,
        (&answer.challenge, &answer.code),
        at,
    )
    .await
    .map(Json)
}

/// Whether the team requires a second factor of everyone (admins).
#[utoipa::path(
    get,
    path = "/v1/team/mfa-policy",
    tag = "accounts",
    responses((status = 200, description = "The policy.", body = MfaPolicy), SignedOut, NotAllowed),
    security(("bearer" = [])),
)]
async fn policy(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<MfaPolicy>, ServerError> {
    mfa_policy::policy(&state.store, &admin.caller)
        .await
        .map(Json)
}

/// Requires (or stops requiring) a second factor of everyone (owners): members
/// without one set it up at their next sign-in.
#[utoipa::path(
    put,
    path = "/v1/team/mfa-policy",
    tag = "accounts",
    request_body = MfaPolicy,
    responses((status = 200, description = "Saved.", body = MfaPolicy), SignedOut, NotAllowed, Malformed),
    security(("bearer" = [])),
)]
async fn set_policy(
    State(state): State<ServerState>,
    owner: Requires<OwnerRole>,
    JsonBody(policy): JsonBody<MfaPolicy>,
) -> Result<Json<MfaPolicy>, ServerError> {
    mfa_policy::set_policy(&state.store, &owner.caller, policy, owner.at)
        .await
        .map(Json)
}

/// The caller's second factors.
#[utoipa::path(
    get,
    path = "/v1/me/mfa",
    tag = "accounts",
    responses(
        (status = 200, description = "What is set up.", body = MfaStatus),
        SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn my_mfa(
    State(state): State<ServerState>,
    Authenticated { caller, .. }: Authenticated,
) -> Result<Json<MfaStatus>, ServerError> {
    mfa::status(&state.store, &caller).await.map(Json)
}

/// Starts setting up an authenticator app: a secret to scan, not in force until
/// its first code confirms it.
#[utoipa::path(
    post,
    path = "/v1/me/mfa/totp",
    tag = "accounts",
    responses(
        (status = 200, description = "The secret and its otpauth:// link; shown this once.", body = TotpEnrolment),
        (status = 409, description = "An authenticator is set up already (`mfa.state`).", body = ApiError),
        SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn begin_totp(
    State(state): State<ServerState>,
    Authenticated { caller, at }: Authenticated,
) -> Result<Json<TotpEnrolment>, ServerError> {
    mfa::begin_totp(&state.store, &state.key, &caller, at)
        .await
        .map(Json)
}

/// Confirms the authenticator with its current code and the caller's password
/// (counted against the sign-in failure limit); from now on signing in
/// wants a second factor. Answers ten recovery codes, shown this once.
#[utoipa::path(
    post,
    path = "/v1/me/mfa/totp/confirm",
    tag = "accounts",
    request_body = TotpConfirm,
    responses(
        (status = 200, description = "Set up; the recovery codes.", body = RecoveryCodes),
        (status = 400, description = "Not the authenticator's current code (`request.invalid`).", body = ApiError),
        (status = 403, description = "The current password is wrong (`auth.wrong_password`).", body = ApiError),
        (status = 409, description = "No authenticator is being set up (`mfa.state`).", body = ApiError),
        SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn confirm_totp(
    State(state): State<ServerState>,
    Authenticated { caller, at }: Authenticated,
    JsonBody(confirm): JsonBody<TotpConfirm>,
) -> Result<Json<RecoveryCodes>, ServerError> {
    mfa::confirm_totp(
        &state.store,
        (&state.key, &state.passwords),
        &caller,
        &confirm,
        at,
    )
    .await
    .map(Json)
}

/// Turns the caller's second factor off; the current password is required and
/// counts against the sign-in failure limit.
#[utoipa::path(
    post,
    path = "/v1/me/mfa/remove",
    tag = "accounts",
    request_body = CurrentPassword,
    responses(
        (status = 403, description = "The current password is wrong (`auth.wrong_password`).", body = ApiError),
        (status = 409, description = "No second factor is set up (`mfa.state`).", body = ApiError),
        EmptyOk, SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn remove_mfa(
    State(state): State<ServerState>,
    Authenticated { caller, at }: Authenticated,
    JsonBody(removal): JsonBody<CurrentPassword>,
) -> Done {
    mfa::remove_own(
        &state.store,
        &state.passwords,
        &caller,
        &removal.current_password,
        at,
    )
    .await?;
    done()
}

/// New recovery codes for the caller (the old ones stop working); the current
/// password is required and counts against the sign-in failure limit.
#[utoipa::path(
    post,
    path = "/v1/me/mfa/recovery-codes",
    tag = "accounts",
    request_body = CurrentPassword,
    responses(
        (status = 200, description = "The new recovery codes, shown this once.", body = RecoveryCodes),
        (status = 403, description = "The current password is wrong (`auth.wrong_password`).", body = ApiError),
        (status = 409, description = "Two-step sign-in is off (`mfa.state`).", body = ApiError),
        SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn new_recovery_codes(
    State(state): State<ServerState>,
    Authenticated { caller, at }: Authenticated,
    JsonBody(confirmation): JsonBody<CurrentPassword>,
) -> Result<Json<RecoveryCodes>, ServerError> {
    mfa::new_recovery_codes(
        &state.store,
        &state.passwords,
        &caller,
        &confirmation.current_password,
        at,
    )
    .await
    .map(Json)
}

/// Removes a member's second factor, for a lost phone (admins; an admin only for
/// members). They sign in with their password alone until they set one up again.
#[utoipa::path(
    post,
    path = "/v1/team/members/{user_id}/mfa/reset",
    tag = "accounts",
    params(
        ("user_id" = String, Path, description = "The member whose second factor is removed."),
    ),
    responses(
        (status = 409, description = "The member has no second factor (`mfa.state`).", body = ApiError),
        EmptyOk, SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn reset_member_mfa(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath(user_id): IdPath<UserId>,
) -> Done {
    mfa::reset_member(&state.store, &admin.caller, &user_id, admin.at).await?;
    done()
}
