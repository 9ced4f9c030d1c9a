//! The delivery task: leases each due sink, sends what lies past its cursor in
//! batches, and moves the cursor only after a batch went through.

use std::sync::Arc;
use std::time::Duration;

use kaito_api::{AuditEventView, SinkTarget};
use kaito_core::backoff::{Backoff, Jitter};
use sqlx::Row as _;
use zeroize::Zeroizing;

use super::BATCH;
use super::destination::{CheckedResolver, DestinationPolicy, ResolveError};
use super::format::{hec_body, octet_counted, syslog_record, webhook_body, webhook_signature};
use super::sinks::parse_target;
use super::transport::{Transport, send_syslog};
use crate::audit;
use crate::custody::ServerKey;
use crate::error::ServerError;
use crate::ids::{SinkId, TeamId};
use crate::store::Store;

/// How long a replica may deliver to a sink before another may take over.
const LEASE_MS: i64 = 60_000;
/// The longest pause between attempts at a failing sink.
const MAX_BACKOFF_MS: i64 = 300_000;
/// How long one batch may take to reach a sink, connection and handshake included:
/// a receiver that stalls gives up its turn, well inside the lease.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Sinks delivered to at once by one replica, each in its own task, so one slow
/// sink holds up only itself.
const SINKS_AT_ONCE: usize = 32;

/// Why a delivery failed, as the sink's status shows it.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("cannot connect to {address}: {source}")]
    Connect {
        address: String,
        source: std::io::Error,
    },
    #[error("the TLS handshake with {address} failed: {source}")]
    Tls {
        address: String,
        source: std::io::Error,
    },
    #[error("the TLS settings are unusable: {0}")]
    TlsSettings(String),
    #[error("the stored target “{0}” is not a URL")]
    BadTarget(String),
    #[error("the connection broke while sending: {0}")]
    Send(std::io::Error),
    #[error(transparent)]
    Destination(#[from] ResolveError),
    #[error("no answer within {} s", .0.as_secs())]
    TimedOut(Duration),
    /// reqwest's own text names only the URL; the cause says what went wrong.
    #[error("the request failed: {}", innermost_cause(.0))]
    Request(reqwest::Error),
    /// Only the status: the body of an internal error page is not shown to admins,
    /// and redirects are not followed (a 3xx is a refusal).
    #[error("the sink answered HTTP {status}{}", if (300..400).contains(status) { " (redirects are not followed)" } else { "" })]
    Refused { status: u16 },
    #[error("the sink's secret does not open with this server key")]
    Secret,
}

/// A sink as the delivery task reads it.
struct DueSink {
    id: SinkId,
    team_id: TeamId,
    target: SinkTarget,
    delivered_seq: i64,
    failures: i64,
    secret: Option<Zeroizing<Vec<u8>>>,
}

/// What delivery needs besides the database.
#[derive(Clone)]
pub struct Deliverer {
    store: Store,
    key: Arc<ServerKey>,
    http: reqwest::Client,
    destinations: DestinationPolicy,
    send_timeout: Duration,
    /// This replica, as the lease holder.
    replica: String,
    /// The syslog HOSTNAME field.
    hostname: String,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer")
            .field("replica", &self.replica)
            .field("hostname", &self.hostname)
            .finish_non_exhaustive()
    }
}

impl Deliverer {
    pub fn new(
        store: Store,
        key: Arc<ServerKey>,
        destinations: DestinationPolicy,
    ) -> Result<Self, ServerError> {
        // Every name is resolved and checked at connect time; no proxy from the
        // environment (it would connect for us, unchecked); no redirects (a public
        // URL answering 307 to an internal one).
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(CheckedResolver(destinations))
            .user_agent(concat!("kaito-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| ServerError::Startup(format!("no HTTP client: {error}")))?;
        Ok(Self {
            store,
            key,
            http,
            destinations,
            send_timeout: SEND_TIMEOUT,
            replica: crate::secrets::new_token()?.to_string(),
            hostname: host_name(),
        })
    }

    /// A shorter limit on one batch's sending (tests of a stalled receiver).
    #[must_use]
    pub fn with_send_timeout(mut self, send_timeout: Duration) -> Self {
        self.send_timeout = send_timeout;
        self
    }

    /// Delivers to every sink, checking every second for what is due, for as long
    /// as the server runs. Each leased sink is delivered by its own task, and the
    /// next check does not wait for them: a sink that stalls holds its own lease
    /// and nothing else.
    pub async fn run_forever(self) {
        let slots = Arc::new(tokio::sync::Semaphore::new(SINKS_AT_ONCE));
        let mut running = tokio::task::JoinSet::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            while running.try_join_next().is_some() {}
            let now_ms = crate::http::now_ms();
            if let Err(error) = self.start_due(now_ms, &slots, &mut running).await {
                tracing::warn!(%error, "SIEM delivery round failed");
            }
        }
    }

    /// One round, waited for: each sink that is due and not leased by another
    /// replica gets what it has not received, all at once. Returns how many events
    /// were delivered.
    pub async fn deliver_due(&self, now_ms: i64) -> Result<i64, ServerError> {
        let slots = Arc::new(tokio::sync::Semaphore::new(SINKS_AT_ONCE));
        let mut running = tokio::task::JoinSet::new();
        self.start_due(now_ms, &slots, &mut running).await?;
        let mut delivered = 0;
        while let Some(finished) = running.join_next().await {
            delivered += finished.map_err(|error| {
                ServerError::Corrupt(format!("a SIEM delivery task: {error}"))
            })??;
        }
        Ok(delivered)
    }

    /// Leases the due sinks a free slot allows and starts a task for each.
    async fn start_due(
        &self,
        now_ms: i64,
        slots: &Arc<tokio::sync::Semaphore>,
        running: &mut tokio::task::JoinSet<Result<i64, ServerError>>,
    ) -> Result<(), ServerError> {
        let due = sqlx::query(
            "SELECT id FROM siem_sinks WHERE next_attempt_at <= $1 AND lease_until < $1 AND held_at IS NULL
             AND delivered_seq < COALESCE((SELECT seq FROM audit_heads h WHERE h.team_id = siem_sinks.team_id), 0)
             ORDER BY next_attempt_at, id",
        )
        .bind(now_ms)
        .fetch_all(self.store.pool())
        .await?;
        for row in due {
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                break; // the rest wait for a slot, at a later check
            };
            let sink_id: String = row.try_get("id")?;
            let Some(sink) = self.lease(&sink_id, now_ms).await? else {
                continue;
            };
            let this = self.clone();
            running.spawn(async move {
                let _slot = slot;
                let delivered = this.deliver(sink, now_ms).await;
                if let Err(error) = &delivered {
                    tracing::warn!(%error, "SIEM delivery to a sink failed");
                }
                delivered
            });
        }
        Ok(())
    }

    async fn lease(&self, sink_id: &str, now_ms: i64) -> Result<Option<DueSink>, ServerError> {
        let taken = sqlx::query(
            "UPDATE siem_sinks SET lease_owner = $1, lease_until = $2
             WHERE id = $3 AND lease_until < $4",
        )
        .bind(self.replica.as_str())
        .bind(now_ms + LEASE_MS)
        .bind(sink_id)
        .bind(now_ms)
        .execute(self.store.pool())
        .await?
        .rows_affected();
        if taken == 0 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT team_id, target, delivered_seq, failures, wrapped_key, sealed_secret
             FROM siem_sinks WHERE id = $1",
        )
        .bind(sink_id)
        .fetch_one(self.store.pool())
        .await?;
        let wrapped: Option<Vec<u8>> = row.try_get("wrapped_key")?;
        let sealed: Option<Vec<u8>> = row.try_get("sealed_secret")?;
        let secret = match (wrapped, sealed) {
            (Some(wrapped), Some(sealed)) => Some(self.key.open(sink_id, &wrapped, &sealed)?),
            _ => None,
        };
        Ok(Some(DueSink {
            id: SinkId::from_stored(sink_id.to_owned()),
            team_id: TeamId::from_stored(row.try_get("team_id")?),
            target: parse_target(&row.try_get::<String, _>("target")?)?,
            delivered_seq: row.try_get("delivered_seq")?,
            failures: row.try_get("failures")?,
            secret,
        }))
    }

    /// Sends batches until the sink has everything or an attempt fails, then
    /// gives the lease back.
    async fn deliver(&self, mut sink: DueSink, now_ms: i64) -> Result<i64, ServerError> {
        let mut delivered = 0;
        let outcome = loop {
            // Past the first batch the lease is renewed, so it cannot run out
            // mid-send; if another replica has taken the sink meanwhile, stop.
            if delivered > 0 && !self.renew_lease(&sink.id).await? {
                return Ok(delivered);
            }
            let events =
                audit::events(&self.store, &sink.team_id, sink.delivered_seq, BATCH).await?;
            let Some(last) = events.last().map(|event| event.seq) else {
                break Ok(());
            };
            let sent = tokio::time::timeout(self.send_timeout, self.send(&sink, &events))
                .await
                .unwrap_or(Err(DeliveryError::TimedOut(self.send_timeout)));
            if let Err(error) = sent {
                break Err(error);
            }
            // Only this replica's lease moves the cursor: had the lease run out and
            // another replica taken over, its cursor stands.
            sqlx::query(
                "UPDATE siem_sinks SET delivered_seq = $1, last_delivered_at = $2, last_error = NULL, failures = 0
                 WHERE id = $3 AND lease_owner = $4 AND delivered_seq < $1",
            )
            .bind(last)
            .bind(crate::http::now_ms())
            .bind(sink.id.as_str())
            .bind(self.replica.as_str())
            .execute(self.store.pool())
            .await?;
            delivered += i64::try_from(events.len()).unwrap_or(0);
            sink.delivered_seq = last;
            sink.failures = 0;
        };
        match outcome {
            Ok(()) => {
                sqlx::query(
                    "UPDATE siem_sinks SET lease_until = 0 WHERE id = $1 AND lease_owner = $2",
                )
                .bind(sink.id.as_str())
                .bind(self.replica.as_str())
                .execute(self.store.pool())
                .await?;
            }
            Err(error) => {
                let failures = sink.failures + 1;
                tracing::warn!(sink = %sink.id, failures, %error, "SIEM delivery failed; will retry");
                sqlx::query(
                    "UPDATE siem_sinks SET lease_until = 0, failures = $1, last_error = $2, next_attempt_at = $3
                     WHERE id = $4 AND lease_owner = $5",
                )
                .bind(failures)
                .bind(error.to_string())
                // From now, not from the round's start: the attempt may have taken a while.
                .bind(now_ms.max(crate::http::now_ms()) + backoff_ms(failures)?)
                .bind(sink.id.as_str())
                .bind(self.replica.as_str())
                .execute(self.store.pool())
                .await?;
            }
        }
        Ok(delivered)
    }

    /// Extends this replica's lease on a sink; false if it is no longer ours.
    async fn renew_lease(&self, sink_id: &SinkId) -> Result<bool, ServerError> {
        let renewed = sqlx::query(
            "UPDATE siem_sinks SET lease_until = $1 WHERE id = $2 AND lease_owner = $3",
        )
        .bind(crate::http::now_ms() + LEASE_MS)
        .bind(sink_id.as_str())
        .bind(self.replica.as_str())
        .execute(self.store.pool())
        .await?
        .rows_affected();
        Ok(renewed > 0)
    }

    /// Posts `body` to `url` unless the URL names a refused address outright
    /// (names are checked by the client's resolver).
    async fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> Result<(), DeliveryError> {
        // Checked when the sink was added, so only a damaged row fails here.
        let parsed =
            reqwest::Url::parse(url).map_err(|_| DeliveryError::BadTarget(url.to_owned()))?;
        if let Some(checked) = self
            .destinations
            .check_literal(parsed.host_str().unwrap_or_default())
        {
            checked.map_err(ResolveError::from)?;
        }
        let mut request = self.http.post(parsed).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.map_err(request_failed)?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(DeliveryError::Refused {
                status: status.as_u16(),
            })
        }
    }

    async fn send(&self, sink: &DueSink, events: &[AuditEventView]) -> Result<(), DeliveryError> {
        match &sink.target {
            SinkTarget::Syslog {
                host,
                port,
                tls,
                format,
                ca_pem,
            } => {
                let mut records = Vec::new();
                for event in events {
                    let record = syslog_record(event, &sink.team_id, *format, &self.hostname);
                    records.extend_from_slice(&octet_counted(&record));
                }
                let transport = if *tls {
                    Transport::Tls {
                        ca_pem: ca_pem.as_deref(),
                    }
                } else {
                    Transport::Tcp
                };
                send_syslog((host, *port), self.destinations, transport, &records).await
            }
            SinkTarget::SplunkHec { url, index } => {
                let token = Zeroizing::new(
                    String::from_utf8_lossy(sink.secret.as_ref().ok_or(DeliveryError::Secret)?)
                        .into_owned(),
                );
                let body = hec_body(events, &sink.team_id, &self.hostname, index.as_deref());
                let authorization = Zeroizing::new(format!("Splunk {}", token.as_str()));
                self.post(
                    url,
                    &[
                        ("authorization", authorization.as_str()),
                        ("content-type", "application/json"),
                    ],
                    body,
                )
                .await
            }
            SinkTarget::Webhook { url } => {
                let secret = sink.secret.as_ref().ok_or(DeliveryError::Secret)?;
                let body = webhook_body(events, &sink.team_id);
                let timestamp = (crate::http::now_ms() / 1000).to_string();
                let signature = webhook_signature(secret, &timestamp, body.as_bytes());
                self.post(
                    url,
                    &[
                        ("content-type", "application/json"),
                        ("x-kaito-timestamp", &timestamp),
                        ("x-kaito-signature", &signature),
                    ],
                    body,
                )
                .await
            }
        }
    }
}

/// A refused address found by the resolver comes back inside reqwest's error:
/// it is shown as itself.
fn request_failed(error: reqwest::Error) -> DeliveryError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&error);
    while let Some(current) = cause {
        if let Some(ResolveError::Refused(refused)) = current.downcast_ref::<ResolveError>() {
            return DeliveryError::Destination(ResolveError::Refused(refused.clone()));
        }
        cause = current.source();
    }
    if error.is_timeout() {
        return DeliveryError::TimedOut(Duration::from_secs(15));
    }
    DeliveryError::Request(error)
}

/// The deepest error in a chain: reqwest's outer text is only "error sending
/// request for url (…)".
fn innermost_cause(error: &reqwest::Error) -> String {
    let mut deepest: &dyn std::error::Error = error;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    deepest.to_string()
}

/// 2, 4, 8 … seconds, at most five minutes, with equal jitter (a random point in
/// the upper half of the pause) so a fleet of replicas does not retry in step, yet
/// a failing sink is never hammered sooner than half the ceiling.
const SINK_BACKOFF: Backoff = Backoff {
    base: Duration::from_secs(2),
    cap: Duration::from_millis(MAX_BACKOFF_MS.unsigned_abs()),
    jitter: Jitter::Equal,
};

fn backoff_ms(failures: i64) -> Result<i64, ServerError> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random)?;
    let failures = u32::try_from(failures.max(0)).unwrap_or(u32::MAX);
    let delay = SINK_BACKOFF.delay(failures, u64::from_le_bytes(random));
    Ok(i64::try_from(delay.as_millis()).unwrap_or(MAX_BACKOFF_MS))
}

/// This machine's name as a syslog HOSTNAME: printable ASCII, at most 255
/// characters, `-` when there is none.
fn host_name() -> String {
    let name = gethostname::gethostname();
    let name: String = name
        .to_string_lossy()
        .trim()
        .chars()
        .filter(char::is_ascii_graphic)
        .take(255)
        .collect();
    if name.is_empty() {
        "-".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_five_minutes_with_jitter() {
        for _ in 0..50 {
            let first = backoff_ms(1).unwrap();
            assert!((2_000..=4_000).contains(&first), "{first}");
            let late = backoff_ms(30).unwrap();
            assert!((150_000..=300_000).contains(&late), "{late}");
        }
    }
}
