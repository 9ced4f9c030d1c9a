//! Pushing each team's audit log to its SIEMs. A sink has a delivery cursor: the
//! events up to it have reached the sink at least once. A background task on every
//! replica sends what lies past each cursor, in order and in batches, and moves the
//! cursor only after a batch went through, so a crash or an outage repeats events
//! rather than losing them. A lease in the database keeps two replicas from
//! sending to one sink at once; a failing sink is retried with growing pauses and
//! its last error is shown to admins.
//!
//! Formats: RFC 5424 syslog over TCP or TLS with octet-counting framing (RFC 5425 /
//! RFC 6587), carrying CEF or JSON; Splunk's HTTP Event Collector; a JSON webhook
//! signed with HMAC-SHA256.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, KeyInit as _, Mac as _};
use kaito_api::{AuditEventView, AuditKind, NewSink, SinkTarget, SinkView, SyslogFormat};
use kaito_core::clock::rfc3339;
use serde_json::json;
use sqlx::Row as _;
use tokio::io::AsyncWriteExt as _;
use zeroize::Zeroizing;

use crate::accounts::Caller;
use crate::audit;
use crate::custody::ServerKey;
use crate::error::ServerError;
use crate::ids::{SinkId, TeamId};
use crate::store::Store;

/// Events per delivery (one syslog write, one HTTP request).
pub const BATCH: i64 = 500;
/// How long a replica may deliver to a sink before another may take over.
const LEASE_MS: i64 = 60_000;
/// The longest pause between attempts at a failing sink.
const MAX_BACKOFF_MS: i64 = 300_000;

pub async fn add_sink(
    store: &Store,
    key: &ServerKey,
    admin: &Caller,
    sink: &NewSink,
    now_ms: i64,
) -> Result<SinkId, ServerError> {
    let name = sink.name.trim();
    if name.is_empty() {
        return Err(ServerError::BadRequest("Give the sink a name.".to_owned()));
    }
    check_target(&sink.target)?;
    let secret = sink
        .secret
        .as_deref()
        .map(str::trim)
        .filter(|secret| !secret.is_empty());
    match (&sink.target, secret) {
        (SinkTarget::SplunkHec { .. }, None) => {
            return Err(ServerError::BadRequest(
                "A Splunk HEC sink needs its HEC token as the secret.".to_owned(),
            ));
        }
        (SinkTarget::Webhook { .. }, secret) if secret.is_none_or(|secret| secret.len() < 16) => {
            return Err(ServerError::BadRequest(
                "A webhook sink needs a secret of at least 16 characters to sign its requests."
                    .to_owned(),
            ));
        }
        (SinkTarget::Syslog { .. }, Some(_)) => {
            return Err(ServerError::BadRequest(
                "A syslog sink takes no secret.".to_owned(),
            ));
        }
        _ => {}
    }
    let sink_id = SinkId::generate()?;
    let (wrapped_key, sealed_secret) = match secret {
        Some(secret) => {
            let (wrapped, sealed) = key.seal(sink_id.as_str(), secret.as_bytes())?;
            (Some(wrapped), Some(sealed))
        }
        None => (None, None),
    };
    let target = serde_json::to_string(&sink.target)
        .map_err(|error| ServerError::Corrupt(format!("a sink target: {error}")))?;
    let mut tx = store.audited(admin, now_ms).await?;
    // A new sink starts at the beginning of the log: the SIEM gets the history too.
    sqlx::query(
        "INSERT INTO siem_sinks (id, team_id, name, target, wrapped_key, sealed_secret, delivered_seq, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
    )
    .bind(sink_id.as_str())
    .bind(admin.team_id.as_str())
    .bind(name)
    .bind(target.as_str())
    .bind(wrapped_key)
    .bind(sealed_secret)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    tx.record(
        AuditKind::SinkAdded,
        Some(sink_id.as_str()),
        json!({ "name": name, "target": sink.target }),
    )
    .await?;
    tx.commit().await?;
    Ok(sink_id)
}

fn check_target(target: &SinkTarget) -> Result<(), ServerError> {
    match target {
        SinkTarget::Syslog {
            host, port, ca_pem, ..
        } => {
            if host.trim().is_empty() || *port == 0 {
                return Err(ServerError::BadRequest(
                    "A syslog sink needs a host and a port.".to_owned(),
                ));
            }
            if let Some(pem) = ca_pem {
                trusted_roots(Some(pem))
                    .map_err(|error| ServerError::BadRequest(error.to_string()))?;
            }
        }
        SinkTarget::SplunkHec { url, .. } | SinkTarget::Webhook { url } => {
            let parsed = reqwest::Url::parse(url.trim()).map_err(|error| {
                ServerError::BadRequest(format!("“{url}” is not a URL: {error}"))
            })?;
            if !matches!(parsed.scheme(), "https" | "http") {
                return Err(ServerError::BadRequest(format!(
                    "“{url}” must be an https:// (or http://) URL."
                )));
            }
        }
    }
    Ok(())
}

/// The team's sinks with how far each has received the log.
pub async fn list_sinks(store: &Store, team_id: &TeamId) -> Result<Vec<SinkView>, ServerError> {
    let (head, _) = audit::head(store, team_id).await?;
    let rows = sqlx::query(
        "SELECT id, name, target, delivered_seq, last_delivered_at, last_error, failures
         FROM siem_sinks WHERE team_id = $1 ORDER BY created_at, id",
    )
    .bind(team_id.as_str())
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let delivered_seq: i64 = row.try_get("delivered_seq")?;
            Ok(SinkView {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                target: parse_target(&row.try_get::<String, _>("target")?)?,
                delivered_seq,
                pending: (head - delivered_seq).max(0),
                last_delivered_at: row.try_get("last_delivered_at")?,
                last_error: row.try_get("last_error")?,
                failures: row.try_get("failures")?,
            })
        })
        .collect()
}

fn parse_target(text: &str) -> Result<SinkTarget, ServerError> {
    serde_json::from_str(text)
        .map_err(|error| ServerError::Corrupt(format!("a stored sink target: {error}")))
}

pub async fn remove_sink(
    store: &Store,
    admin: &Caller,
    sink_id: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let mut tx = store.audited(admin, now_ms).await?;
    let removed = sqlx::query("DELETE FROM siem_sinks WHERE id = $1 AND team_id = $2")
        .bind(sink_id)
        .bind(admin.team_id.as_str())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(ServerError::NotFound(format!(
            "No SIEM sink {sink_id} in your team."
        )));
    }
    tx.record(AuditKind::SinkRemoved, Some(sink_id), json!({}))
        .await?;
    tx.commit().await
}

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
    #[error("the connection broke while sending: {0}")]
    Send(std::io::Error),
    #[error("the request failed: {0}")]
    Request(#[from] reqwest::Error),
    #[error("the sink answered HTTP {status}: {body}")]
    Refused { status: u16, body: String },
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
    pub fn new(store: Store, key: Arc<ServerKey>) -> Result<Self, ServerError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("kaito-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| ServerError::Startup(format!("no HTTP client: {error}")))?;
        Ok(Self {
            store,
            key,
            http,
            replica: crate::secrets::new_token()?.to_string(),
            hostname: host_name(),
        })
    }

    /// Delivers to every sink, every second, for as long as the server runs.
    pub async fn run_forever(self) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = self.deliver_due(crate::http::now_ms()).await {
                tracing::warn!(%error, "SIEM delivery round failed");
            }
        }
    }

    /// One round: each sink that is due and not leased by another replica gets
    /// what it has not received. Returns how many events were delivered.
    pub async fn deliver_due(&self, now_ms: i64) -> Result<i64, ServerError> {
        let due = sqlx::query(
            "SELECT id FROM siem_sinks WHERE next_attempt_at <= $1 AND lease_until < $1
             AND delivered_seq < COALESCE((SELECT seq FROM audit_heads h WHERE h.team_id = siem_sinks.team_id), 0)",
        )
        .bind(now_ms)
        .fetch_all(self.store.pool())
        .await?;
        let mut delivered = 0;
        for row in due {
            let sink_id: String = row.try_get("id")?;
            let Some(sink) = self.lease(&sink_id, now_ms).await? else {
                continue;
            };
            delivered += self.deliver(sink, now_ms).await?;
        }
        Ok(delivered)
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
            let events =
                audit::events(&self.store, &sink.team_id, sink.delivered_seq, BATCH).await?;
            let Some(last) = events.last().map(|event| event.seq) else {
                break Ok(());
            };
            if let Err(error) = self.send(&sink, &events).await {
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
                .bind(now_ms + backoff_ms(failures)?)
                .bind(sink.id.as_str())
                .bind(self.replica.as_str())
                .execute(self.store.pool())
                .await?;
            }
        }
        Ok(delivered)
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
                send_syslog(host, *port, transport, &records).await
            }
            SinkTarget::SplunkHec { url, index } => {
                let token = Zeroizing::new(
                    String::from_utf8_lossy(sink.secret.as_ref().ok_or(DeliveryError::Secret)?)
                        .into_owned(),
                );
                let mut body = String::new();
                for event in events {
                    let mut record = json!({
                        "time": hec_time(event.at),
                        "host": self.hostname,
                        "source": "kaito-server",
                        "sourcetype": "kaito:audit",
                        "event": event_json(event, &sink.team_id),
                    });
                    if let Some(index) = index {
                        record["index"] = json!(index);
                    }
                    body.push_str(&record.to_string());
                }
                let response = self
                    .http
                    .post(url)
                    .header("authorization", format!("Splunk {}", token.as_str()))
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                refused_unless_success(response).await
            }
            SinkTarget::Webhook { url } => {
                let secret = sink.secret.as_ref().ok_or(DeliveryError::Secret)?;
                let body = json!({
                    "team_id": sink.team_id.as_str(),
                    "events": events.iter().map(|event| event_json(event, &sink.team_id)).collect::<Vec<_>>(),
                })
                .to_string();
                let timestamp = (crate::http::now_ms() / 1000).to_string();
                let response = self
                    .http
                    .post(url)
                    .header("content-type", "application/json")
                    .header("x-kaito-timestamp", &timestamp)
                    .header(
                        "x-kaito-signature",
                        webhook_signature(secret, &timestamp, body.as_bytes()),
                    )
                    .body(body)
                    .send()
                    .await?;
                refused_unless_success(response).await
            }
        }
    }
}

async fn refused_unless_success(response: reqwest::Response) -> Result<(), DeliveryError> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    Err(DeliveryError::Refused {
        status: status.as_u16(),
        body: body.chars().take(200).collect(),
    })
}

/// 2, 4, 8 … seconds, at most five minutes, with full jitter so a fleet of
/// replicas does not retry in step.
fn backoff_ms(failures: i64) -> Result<i64, ServerError> {
    let ceiling = 2_000_i64
        .saturating_mul(1 << failures.clamp(0, 20))
        .min(MAX_BACKOFF_MS);
    let mut random = [0u8; 8];
    getrandom::fill(&mut random)?;
    let jitter = i64::try_from(u64::from_le_bytes(random) % 1000).unwrap_or(0);
    Ok(ceiling / 2 + (ceiling / 2) * jitter / 1000)
}

/// The `X-Kaito-Signature` of a webhook body.
#[must_use]
pub fn webhook_signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", crate::secrets::hex(&mac.finalize().into_bytes()))
}

/// An event as SIEMs get it: the log's view plus the team.
fn event_json(event: &AuditEventView, team_id: &TeamId) -> serde_json::Value {
    json!({
        "team_id": team_id.as_str(),
        "seq": event.seq,
        "event_id": event.event_id,
        "at": event.at,
        "time": rfc3339(event.at),
        "actor": event.actor,
        "kind": event.kind,
        "subject": event.subject,
        "details": event.details,
        "hash": event.hash,
    })
}

/// Splunk's `time`: seconds with milliseconds.
fn hec_time(at_ms: i64) -> serde_json::Value {
    json!(
        format!("{}.{:03}", at_ms.div_euclid(1000), at_ms.rem_euclid(1000))
            .parse::<f64>()
            .unwrap_or(0.0)
    )
}

/// (syslog severity, CEF severity 0–10) of an event kind. Every kind is listed, so
/// a new one must choose.
fn severity(kind: AuditKind) -> (u8, u8) {
    match kind {
        AuditKind::DeviceSequenceGap => (4, 8),
        AuditKind::LoginFailed | AuditKind::SeedRefused => (4, 6),
        AuditKind::SeedFetched
        | AuditKind::SeedRevealed
        | AuditKind::TokenRotated
        | AuditKind::MemberDisabled
        | AuditKind::Pruned
        | AuditKind::RetentionChanged => (5, 5),
        AuditKind::Login
        | AuditKind::MemberAdded
        | AuditKind::InviteCreated
        | AuditKind::InviteRevoked
        | AuditKind::InviteAccepted
        | AuditKind::TokenCreated
        | AuditKind::GrantCreated
        | AuditKind::GrantRevoked
        | AuditKind::GroupCreated
        | AuditKind::GroupMemberAdded
        | AuditKind::GroupMemberRemoved
        | AuditKind::CodeServed
        | AuditKind::CodeViewed
        | AuditKind::CodeCopied
        | AuditKind::SmsCodeCopied
        | AuditKind::ApiTokenCreated
        | AuditKind::ApiTokenRevoked
        | AuditKind::DeviceEnrolled
        | AuditKind::DeviceRevoked
        | AuditKind::SinkAdded
        | AuditKind::SinkRemoved
        | AuditKind::SmsReceived
        | AuditKind::SmsNumberAdded
        | AuditKind::SmsGrantCreated => INFORMATIONAL,
    }
}

/// Routine events, and a stored kind this server does not know (written by a
/// newer version, say): syslog "informational", CEF 3.
const INFORMATIONAL: (u8, u8) = (6, 3);

/// The severity of a stored event's kind.
fn severity_of(stored_kind: &str) -> (u8, u8) {
    stored_kind.parse().map_or(INFORMATIONAL, severity)
}

/// Facility 13, "log audit".
const FACILITY: u8 = 13;

/// One RFC 5424 record: `<PRI>1 TIMESTAMP HOSTNAME kaito-server - MSGID - MSG`.
#[must_use]
pub fn syslog_record(
    event: &AuditEventView,
    team_id: &TeamId,
    format: SyslogFormat,
    hostname: &str,
) -> String {
    let (syslog_severity, _) = severity_of(&event.kind);
    let message = match format {
        SyslogFormat::Cef => cef(event, team_id),
        SyslogFormat::Json => event_json(event, team_id).to_string(),
    };
    // MSGID: printable ASCII, at most 32 characters.
    let msgid: String = event
        .kind
        .chars()
        .filter(char::is_ascii_graphic)
        .take(32)
        .collect();
    format!(
        "<{}>1 {} {} kaito-server - {} - {}",
        u16::from(FACILITY) * 8 + u16::from(syslog_severity),
        rfc3339(event.at),
        hostname,
        if msgid.is_empty() { "-" } else { &msgid },
        message
    )
}

/// `LEN SP RECORD`, the framing of RFC 5425 and RFC 6587 §3.4.1.
#[must_use]
pub fn octet_counted(record: &str) -> Vec<u8> {
    format!("{} {record}", record.len()).into_bytes()
}

/// `ArcSight` CEF: `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension`.
#[must_use]
pub fn cef(event: &AuditEventView, team_id: &TeamId) -> String {
    let header = |text: &str| text.replace('\\', "\\\\").replace('|', "\\|");
    let value = |text: &str| {
        text.replace('\\', "\\\\")
            .replace('=', "\\=")
            .replace('\r', "\\r")
            .replace('\n', "\\n")
    };
    let (_, cef_severity) = severity_of(&event.kind);
    let mut extension = vec![
        format!("rt={}", event.at),
        format!("externalId={}", value(&event.event_id)),
        format!("cs1Label=team cs1={}", value(team_id.as_str())),
        format!("cn1Label=seq cn1={}", event.seq),
    ];
    if let Some(actor) = &event.actor {
        extension.push(format!("suser={}", value(actor)));
    }
    if let Some(subject) = &event.subject {
        extension.push(format!("cs2Label=subject cs2={}", value(subject)));
    }
    extension.push(format!(
        "cs3Label=details cs3={}",
        value(&event.details.to_string())
    ));
    extension.push(format!("cs4Label=hash cs4={}", value(&event.hash)));
    format!(
        "CEF:0|Kaito|kaito-server|{}|{}|{}|{}|{}",
        header(crate::VERSION),
        header(&event.kind),
        header(&event.kind.replace(['.', '_'], " ")),
        cef_severity,
        extension.join(" ")
    )
}

fn host_name() -> String {
    let name = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .unwrap_or_default();
    let name: String = name
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

/// The public web roots, and the sink's own CA if it has one.
fn trusted_roots(ca_pem: Option<&str>) -> Result<rustls::RootCertStore, DeliveryError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(pem) = ca_pem {
        let mut added = 0;
        for certificate in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let certificate = certificate.map_err(|error| {
                DeliveryError::TlsSettings(format!("ca_pem is not PEM certificates: {error}"))
            })?;
            roots.add(certificate).map_err(|error| {
                DeliveryError::TlsSettings(format!("a certificate in ca_pem is unusable: {error}"))
            })?;
            added += 1;
        }
        if added == 0 {
            return Err(DeliveryError::TlsSettings(
                "ca_pem holds no certificate.".to_owned(),
            ));
        }
    }
    Ok(roots)
}

/// How a syslog connection is made.
#[derive(Clone, Copy)]
enum Transport<'a> {
    Tcp,
    /// TLS, trusting the public roots and the sink's own CA if it has one.
    Tls {
        ca_pem: Option<&'a str>,
    },
}

/// Writes `records` to a syslog receiver on a fresh connection.
async fn send_syslog(
    host: &str,
    port: u16,
    transport: Transport<'_>,
    records: &[u8],
) -> Result<(), DeliveryError> {
    let address = format!("{host}:{port}");
    let connect = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    .map_err(|_| DeliveryError::Connect {
        address: address.clone(),
        source: std::io::ErrorKind::TimedOut.into(),
    })?;
    let tcp = connect.map_err(|source| DeliveryError::Connect {
        address: address.clone(),
        source,
    })?;
    match transport {
        Transport::Tcp => write_all_and_close(tcp, records).await,
        Transport::Tls { ca_pem } => {
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|error| DeliveryError::TlsSettings(error.to_string()))?
            .with_root_certificates(trusted_roots(ca_pem)?)
            .with_no_client_auth();
            let server_name = rustls::pki_types::ServerName::try_from(host.to_owned())
                .map_err(|error| DeliveryError::TlsSettings(format!("“{host}”: {error}")))?;
            let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(server_name, tcp)
                .await
                .map_err(|source| DeliveryError::Tls { address, source })?;
            write_all_and_close(stream, records).await
        }
    }
}

async fn write_all_and_close(
    mut stream: impl tokio::io::AsyncWrite + Unpin,
    records: &[u8],
) -> Result<(), DeliveryError> {
    stream
        .write_all(records)
        .await
        .map_err(DeliveryError::Send)?;
    stream.flush().await.map_err(DeliveryError::Send)?;
    stream.shutdown().await.map_err(DeliveryError::Send)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, details: serde_json::Value) -> AuditEventView {
        AuditEventView {
            seq: 7,
            event_id: "evt_1".to_owned(),
            at: 1_764_428_645_123,
            actor: Some("user_a".to_owned()),
            kind: kind.to_owned(),
            subject: Some("tok|x".to_owned()),
            details,
            hash: "ab".to_owned(),
        }
    }

    #[test]
    fn cef_escapes_what_would_break_fields() {
        let team = TeamId::from_stored("team_1".to_owned());
        let line = cef(&event("seed.fetched", json!({ "note": "a=b\nc" })), &team);
        assert!(line.starts_with("CEF:0|Kaito|kaito-server|"), "{line}");
        assert!(
            line.contains("|seed.fetched|seed fetched|5|rt=1764428645123 "),
            "{line}"
        );
        // `=` and newlines inside a value are escaped; `|` only matters in the header.
        assert!(line.contains(r#"cs3={"note":"a\=b\\nc"}"#), "{line}");
        assert!(line.contains("cs2Label=subject cs2=tok|x"), "{line}");
    }

    #[test]
    fn syslog_records_are_rfc5424_and_octet_counted() {
        let team = TeamId::from_stored("team_1".to_owned());
        let record = syslog_record(
            &event("login.failed", json!({})),
            &team,
            SyslogFormat::Json,
            "host1",
        );
        assert!(
            record.starts_with(
                "<108>1 2025-11-29T15:04:05.123Z host1 kaito-server - login.failed - {"
            ),
            "{record}"
        );
        let framed = String::from_utf8(octet_counted("héllo")).unwrap();
        assert_eq!(framed, "6 héllo");
    }

    #[test]
    fn severity_follows_the_kind_and_unknown_kinds_are_routine() {
        assert_eq!(severity_of("device.sequence_gap"), (4, 8));
        assert_eq!(severity_of("seed.refused"), (4, 6));
        assert_eq!(severity_of("audit.pruned"), (5, 5));
        assert_eq!(severity_of("code.served"), (6, 3));
        assert_eq!(severity_of("some.future_kind"), (6, 3));
    }

    #[test]
    fn backoff_grows_to_five_minutes_with_jitter() {
        for _ in 0..50 {
            let first = backoff_ms(1).unwrap();
            assert!((2_000..=4_000).contains(&first), "{first}");
            let late = backoff_ms(30).unwrap();
            assert!((150_000..=300_000).contains(&late), "{late}");
        }
    }

    #[test]
    fn webhook_signatures_cover_timestamp_and_body() {
        let signature = webhook_signature(b"0123456789abcdef", "1700000000", b"{}");
        assert!(signature.starts_with("v1=") && signature.len() == 67);
        assert_ne!(
            signature,
            webhook_signature(b"0123456789abcdef", "1700000001", b"{}")
        );
    }
}
