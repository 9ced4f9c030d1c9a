//! Prometheus metrics (`GET /metrics`, `OpenMetrics` text). Counts and timings only:
//! no label carries an id, an email, a phone number, a seed or a code.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sqlx::Row as _;

use crate::error::ServerError;
use crate::store::Store;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// The route's pattern (`/v1/tokens/{token_id}/codes`), never the concrete path.
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

type Timings = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn request_timing() -> Histogram {
    // 0.5 ms to about 4 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

/// The server's metrics, one set per process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    timings: Timings,
    sms_streams: Gauge,
    audit_events: Gauge,
    siem_sinks_failing: Gauge,
    siem_pending_max: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kaito");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route pattern, method and status",
            requests.clone(),
        );
        let timings = Timings::new_with_constructor(request_timing);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request (to the response head), by route pattern",
            timings.clone(),
        );
        let sms_streams = Gauge::default();
        registry.register(
            "sms_live_streams",
            "Live SMS streams open on this replica",
            sms_streams.clone(),
        );
        let audit_events = Gauge::default();
        registry.register(
            "audit_events",
            "Audit events ever appended, all teams",
            audit_events.clone(),
        );
        let siem_sinks_failing = Gauge::default();
        registry.register(
            "siem_sinks_failing",
            "SIEM sinks whose last delivery failed",
            siem_sinks_failing.clone(),
        );
        let siem_pending_max = Gauge::default();
        registry.register(
            "siem_pending_events_max",
            "Audit events not yet delivered to the furthest-behind SIEM sink",
            siem_pending_max.clone(),
        );
        Self {
            registry,
            requests,
            timings,
            sms_streams,
            audit_events,
            siem_sinks_failing,
            siem_pending_max,
        }
    }
}

impl Metrics {
    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .inc();
        self.timings
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// The exposition, with the gauges read now.
    pub async fn render(&self, store: &Store, sms_streams: usize) -> Result<String, ServerError> {
        self.sms_streams
            .set(i64::try_from(sms_streams).unwrap_or(i64::MAX));
        let row =
            sqlx::query("SELECT CAST(COALESCE(SUM(seq), 0) AS BIGINT) AS events FROM audit_heads")
                .fetch_one(store.pool())
                .await?;
        self.audit_events.set(row.try_get("events")?);
        let row = sqlx::query("SELECT COUNT(*) AS failing FROM siem_sinks WHERE failures > 0")
            .fetch_one(store.pool())
            .await?;
        self.siem_sinks_failing.set(row.try_get("failing")?);
        let row = sqlx::query(
            "SELECT COALESCE(MAX(h.seq - s.delivered_seq), 0) AS pending
             FROM siem_sinks s JOIN audit_heads h ON h.team_id = s.team_id",
        )
        .fetch_one(store.pool())
        .await?;
        self.siem_pending_max.set(row.try_get("pending")?);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .map_err(|error| ServerError::Corrupt(format!("metrics do not encode: {error}")))?;
        Ok(text)
    }
}
