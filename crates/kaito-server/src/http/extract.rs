//! What handlers take from a request: a JSON body with Kaito's errors, and the
//! guards that decide who may call ([`Authenticated`], [`Requires`], [`AuditReader`]).

use std::marker::PhantomData;

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use kaito_api::Role;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

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

/// `{ "id": … }`: what a create answers.
#[derive(Serialize, ToSchema)]
pub(super) struct CreatedId {
    pub(super) id: String,
}

/// A request header's value as text (`None` when absent or not text).
pub(super) fn header<'h>(headers: &'h axum::http::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}
