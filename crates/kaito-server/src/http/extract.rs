//! What handlers take from a request: a JSON body and typed path ids with Kaito's
//! errors, the request's time, and the guards that decide who may call
//! ([`Authenticated`], [`Requires`], [`AuditReader`]). A guard reads the clock
//! once, when it checks the caller, and hands that time (`at`) to the handler.

use std::marker::PhantomData;
use std::net::SocketAddr;

use axum::Json;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use kaito_api::Role;
use serde::de::DeserializeOwned;

use super::{ServerState, now_ms};
use crate::accounts::{self, Caller};
use crate::api_tokens;
use crate::error::ServerError;

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

/// The ids in the request's path, typed: each is checked by its `Deserialize`. A
/// malformed id names nothing, so it is answered as an unknown one is: 404
/// `not_found` (see [`PathIdRejection::into_no_grant`] for the routes that answer 403).
#[derive(Debug)]
pub struct IdPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for IdPath<T> {
    type Rejection = PathIdRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(ids)) => Ok(Self(ids)),
            Err(PathRejection::FailedToDeserializePathParams(failed)) => {
                match failed.into_kind() {
                    // The ids' own check: `MalformedId`'s message.
                    ErrorKind::Message(message) => Err(PathIdRejection::Malformed(message)),
                    other => Err(PathIdRejection::Unreadable(format!("Invalid URL: {other}"))),
                }
            }
            Err(other) => Err(PathIdRejection::Unreadable(other.body_text())),
        }
    }
}

/// Why [`IdPath`] refused a path.
#[derive(Debug)]
pub enum PathIdRejection {
    /// An id of the wrong shape: no such thing exists.
    Malformed(String),
    /// Not text at all (say, bad percent-encoding).
    Unreadable(String),
}

impl PathIdRejection {
    /// For the routes that answer an unknown token "no grant" (403 `grant.none`)
    /// rather than 404, so a member cannot learn which tokens exist.
    pub fn into_no_grant(self) -> ServerError {
        match self {
            Self::Malformed(message) => ServerError::NoGrant(message),
            unreadable @ Self::Unreadable(_) => unreadable.into(),
        }
    }
}

impl From<PathIdRejection> for ServerError {
    fn from(rejection: PathIdRejection) -> Self {
        match rejection {
            PathIdRejection::Malformed(message) => ServerError::NotFound(message),
            PathIdRejection::Unreadable(message) => ServerError::BadRequest(message),
        }
    }
}

impl IntoResponse for PathIdRejection {
    fn into_response(self) -> Response {
        ServerError::from(self).into_response()
    }
}

/// When the request is handled (Unix milliseconds), for the routes no guard
/// covers; the guards carry it as `at`.
#[derive(Debug, Clone, Copy)]
pub struct At(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for At {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(now_ms()))
    }
}

/// A password attempt (sign-in, accepting an invite) that the client's address
/// may still make ([`crate::login_throttle`]); refused 429 with `Retry-After`
/// before the body is read or anything is counted against an account.
#[derive(Debug, Clone, Copy)]
pub struct AttemptAllowed;

impl FromRequestParts<ServerState> for AttemptAllowed {
    type Rejection = ServerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip());
        let forwarded_for = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok());
        let throttle = &state.login_throttle;
        throttle.take_attempt(throttle.client_address(peer, forwarded_for))?;
        Ok(Self)
    }
}

/// Any signed-in member, by their `Authorization: Bearer` access token.
#[derive(Debug)]
pub struct Authenticated {
    pub caller: Caller,
    /// When the access token was checked: the request's time.
    pub at: i64,
}

impl FromRequestParts<ServerState> for Authenticated {
    type Rejection = ServerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        let at = now_ms();
        let caller = accounts::authenticate(&state.store, token, at).await?;
        Ok(Self { caller, at })
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
    pub at: i64,
}

impl FromRequestParts<ServerState> for AuditReader {
    type Rejection = ServerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        if token.starts_with(api_tokens::PREFIX) {
            let at = now_ms();
            let client = api_tokens::authenticate(&state.store, token, at).await?;
            if !client
                .scopes
                .iter()
                .any(|scope| scope == api_tokens::AUDIT_READ)
            {
                return Err(ServerError::MissingScope(api_tokens::AUDIT_READ));
            }
            return Ok(Self {
                team_id: client.team_id,
                at,
            });
        }
        let admin = Requires::<AdminRole>::from_request_parts(parts, state).await?;
        Ok(Self {
            team_id: admin.caller.team_id,
            at: admin.at,
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
    /// When the access token was checked: the request's time.
    pub at: i64,
    role: PhantomData<R>,
}

impl<R: RoleRequirement> FromRequestParts<ServerState> for Requires<R> {
    type Rejection = ServerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        let Authenticated { caller, at } = Authenticated::from_request_parts(parts, state).await?;
        if caller.role < R::MINIMUM {
            return Err(ServerError::Forbidden {
                have: caller.role,
                need: R::MINIMUM,
            });
        }
        Ok(Self {
            caller,
            at,
            role: PhantomData,
        })
    }
}

/// A request header's value as text (`None` when absent or not text).
pub(super) fn header<'h>(headers: &'h axum::http::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}
