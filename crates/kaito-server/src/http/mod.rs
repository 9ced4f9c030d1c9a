//! The HTTP API (`/v1/…`). Handlers only translate: the work is in the domain
//! modules ([`crate::accounts`], [`crate::shared`]…). Each resource has its own
//! sub-router; [`router`] merges them. Who may call what is in the handler's
//! signature: [`Authenticated`] for any signed-in member, [`Requires<AdminRole>`]
//! and [`Requires<OwnerRole>`] above that.

use std::sync::Arc;

use axum::Router;

use crate::custody::ServerKey;
use crate::error::ServerError;
use crate::login_throttle::LoginThrottle;
use crate::password_work::PasswordWork;
use crate::siem::DestinationPolicy;
use crate::sms::{InboxWake, SmsArrived, SmsConfig};
use crate::store::{Backend, Store};

mod accounts;
mod audit;
mod devices;
mod extract;
mod groups;
mod invites;
mod mfa;
mod openapi;
mod operations;
mod reply;
mod siem;
mod sms;
mod sso;
mod tokens;

pub use extract::{
    AdminRole, AuditReader, Authenticated, JsonBody, OwnerRole, Requires, RoleRequirement,
};
pub use openapi::ApiDoc;

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
    /// The slots password hashing runs in.
    pub passwords: PasswordWork,
    /// The per-address limit on password attempts.
    pub login_throttle: LoginThrottle,
    /// The addresses SIEM sinks may reach.
    pub sink_destinations: DestinationPolicy,
    /// The addresses a team's identity provider may be at.
    pub sso_destinations: DestinationPolicy,
    /// How many audit events each device may report.
    pub device_events: crate::device_limit::DeviceEventLimit,
    /// When set, `GET /metrics` wants it as a bearer token: on a server of
    /// several teams even counts tell one team about another's activity.
    pub metrics_token: Option<Arc<zeroize::Zeroizing<String>>>,
    /// The live inbox streams each member has open on this replica.
    pub sms_streams: crate::sms::stream_slots::StreamSlots,
    /// The operator's floor under every team's audit retention, in days.
    pub audit_min_retention_days: u32,
    /// Records `sms.delivered` for many streams in one commit.
    pub sms_deliveries: crate::sms::delivery_log::DeliveryLog,
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
            passwords: PasswordWork::default(),
            login_throttle: LoginThrottle::default(),
            sink_destinations: DestinationPolicy::default(),
            sso_destinations: DestinationPolicy::default(),
            device_events: crate::device_limit::DeviceEventLimit::default(),
            metrics_token: None,
            sms_streams: crate::sms::stream_slots::StreamSlots::default(),
            audit_min_retention_days: crate::audit::MIN_RETENTION_DAYS,
            sms_deliveries: crate::sms::delivery_log::DeliveryLog::default(),
        }
    }

    /// Another floor under the teams' audit retention (at least a day).
    #[must_use]
    pub fn with_audit_min_retention_days(mut self, days: u32) -> Self {
        self.audit_min_retention_days = days.max(1);
        self
    }

    /// Another bound on live inbox streams per member (tests make it small).
    #[must_use]
    pub fn with_sms_streams(mut self, sms_streams: crate::sms::stream_slots::StreamSlots) -> Self {
        self.sms_streams = sms_streams;
        self
    }

    /// Makes `GET /metrics` want `token` as its bearer token.
    #[must_use]
    pub fn with_metrics_token(mut self, token: Option<zeroize::Zeroizing<String>>) -> Self {
        self.metrics_token = token.filter(|token| !token.is_empty()).map(Arc::new);
        self
    }

    /// Another per-device limit on reported audit events (tests make it small).
    #[must_use]
    pub fn with_device_events(
        mut self,
        device_events: crate::device_limit::DeviceEventLimit,
    ) -> Self {
        self.device_events = device_events;
        self
    }

    /// Lets identity providers be at private addresses (one on the team's own
    /// network), or not.
    #[must_use]
    pub fn with_sso_destinations(mut self, sso_destinations: DestinationPolicy) -> Self {
        self.sso_destinations = sso_destinations;
        self
    }

    /// Lets SIEM sinks reach private ranges (an on-premises SIEM), or not.
    #[must_use]
    pub fn with_sink_destinations(mut self, sink_destinations: DestinationPolicy) -> Self {
        self.sink_destinations = sink_destinations;
        self
    }

    /// Another per-address limit, for example one trusting the operator's proxies.
    #[must_use]
    pub fn with_login_throttle(mut self, login_throttle: LoginThrottle) -> Self {
        self.login_throttle = login_throttle;
        self
    }

    #[must_use]
    pub fn with_password_work(mut self, passwords: PasswordWork) -> Self {
        self.passwords = passwords;
        self
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
    /// [`crate::sms::relay_notifications`].
    fn announce(&self, arrived: SmsArrived) {
        if self.store.backend() == Backend::Sqlite {
            // No live subscriber is fine: the message is stored for the next fetch.
            let _ = self.sms_wakes.send(InboxWake::Arrived(arrived.team_id));
        }
    }

    /// Starts the work beside the API: SIEM delivery, audit retention, forgetting
    /// closed sign-in windows and, on
    /// PostgreSQL, the relay that brings other replicas' SMS to this one's streams.
    /// The tasks stop when the set is dropped.
    pub fn spawn_background_tasks(&self) -> Result<tokio::task::JoinSet<()>, ServerError> {
        let mut tasks = tokio::task::JoinSet::new();
        if let Some(url) = self.store.postgres_url() {
            tasks.spawn(crate::sms::relay_notifications(
                url.to_owned(),
                self.sms_wakes.clone(),
            ));
        }
        tasks.spawn(
            crate::siem::Deliverer::new(
                self.store.clone(),
                self.key.clone(),
                self.sink_destinations,
            )?
            .run_forever(),
        );
        tasks.spawn(crate::audit::prune_forever(
            self.store.clone(),
            self.audit_min_retention_days,
        ));
        tasks.spawn(crate::accounts::prune_login_failures_forever(
            self.store.clone(),
        ));
        tasks.spawn(crate::shared::expire_grants_forever(self.store.clone()));
        tasks.spawn(crate::login_throttle::forget_idle_sources_forever(
            self.login_throttle.clone(),
            self.device_events.clone(),
        ));
        Ok(tasks)
    }
}

/// Milliseconds since the Unix epoch, the unit of every stored time.
#[must_use]
pub fn now_ms() -> i64 {
    kaito_core::clock::UnixMillis::now(&kaito_core::clock::SystemClock).0
}

/// Serves the API on `listener` until `shutdown` resolves, telling handlers each
/// connection's peer address (the per-address sign-in limit keys on it).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ServerState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The whole API: every resource's routes, each request counted and timed.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .merge(operations::routes())
        .merge(accounts::routes())
        .merge(mfa::routes())
        .merge(sso::routes())
        .merge(invites::routes())
        .merge(tokens::routes())
        .merge(groups::routes())
        .merge(audit::routes())
        .merge(siem::routes())
        .merge(devices::routes())
        .merge(sms::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            operations::count_request,
        ))
        .with_state(state)
}
