//! Operations: health, Prometheus metrics, the `OpenAPI` document, and the
//! middleware that counts every request.

use axum::extract::Request;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::OpenApi as _;
use utoipa::ToSchema;

use super::ServerState;
use super::openapi::ApiDoc;
use crate::error::ServerError;

pub(super) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/v1/health", get(health))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi))
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
pub(super) async fn count_request(
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
/// `GET /metrics`: for Prometheus; counts only. Open, unless the operator set a
/// metrics token (`--metrics-token-file`): then only a scraper with it reads them.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "OpenMetrics text.", body = String, content_type = "application/openmetrics-text"),
        (status = 401, description = "The server wants its metrics token, and this is not it (`auth.unauthenticated`).", body = kaito_api::ApiError),
    ),
)]
async fn metrics(
    State(state): State<ServerState>,
    headers: axum::http::HeaderMap,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String), ServerError> {
    if let Some(expected) = &state.metrics_token {
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or("");
        if !kaito_core::secret::constant_time_eq(given.trim().as_bytes(), expected.as_bytes()) {
            return Err(ServerError::Unauthenticated);
        }
    }
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
