//! What handlers answer besides a view: `{}` for an action, `{ "id": … }` for a
//! create.

use axum::Json;
use axum::response::{IntoResponse, Response};
use kaito_api::{CreatedId, Empty};

use crate::error::ServerError;

/// The answer of an action that returns nothing: `{}`.
pub(super) type Done = Result<Json<Empty>, ServerError>;

/// [`Done`]'s success.
#[allow(clippy::unnecessary_wraps)] // The handler's answer, `?`-ed errors aside.
pub(super) fn done() -> Done {
    Ok(Json(Empty {}))
}

/// A create's answer, `{ "id": … }` ([`CreatedId`]), from the new thing's typed id.
#[derive(Debug)]
pub(super) struct Created<Id>(pub Id);

impl<Id: std::fmt::Display> IntoResponse for Created<Id> {
    fn into_response(self) -> Response {
        Json(CreatedId {
            id: self.0.to_string(),
        })
        .into_response()
    }
}
