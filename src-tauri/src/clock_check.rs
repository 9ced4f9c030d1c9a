//! Warns when the system clock is off, which silently breaks every TOTP code. Asks a
//! trusted HTTPS server's `Date` (the 2FA directory's host) at start and hourly; the
//! arithmetic is kaito-core's. Never blocks anything: no answer means no warning.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use kaito_core::clock::Skew;

use crate::state::lock;
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// Event the UI listens to, to show or clear the banner.
pub const SKEW_EVENT: &str = "clock-skew";
const CHECK_EVERY: Duration = Duration::from_secs(3600);
const TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Default)]
pub struct ClockWarning(Mutex<Option<String>>);

impl ClockWarning {
    pub fn get(&self) -> Option<String> {
        lock(&self.0).clone()
    }

    fn set(&self, warning: Option<String>) -> bool {
        let mut current = lock(&self.0);
        let changed = *current != warning;
        *current = warning;
        changed
    }
}

/// One measurement against `url`; `None` when the server cannot be reached or sends
/// no usable `Date`.
async fn measure(client: &reqwest::Client, url: &str) -> Option<Skew> {
    let sent = SystemTime::now();
    let response = client.head(url).send().await.ok()?;
    let received = SystemTime::now();
    let date = response
        .headers()
        .get(reqwest::header::DATE)?
        .to_str()
        .ok()?;
    let server = httpdate::parse_http_date(date).ok()?;
    Some(Skew::measure(sent, received, server))
}

pub fn start<R: Runtime>(app: AppHandle<R>, url: String) {
    tauri::async_runtime::spawn(async move {
        let Ok(client) = reqwest::Client::builder().timeout(TIMEOUT).build() else {
            return;
        };
        loop {
            if let Some(skew) = measure(&client, &url).await {
                let warning = skew.warning();
                if warning.is_some() {
                    tracing::warn!(
                        local_ahead_secs = skew.local_ahead_secs,
                        "system clock is off"
                    );
                }
                if app.state::<ClockWarning>().set(warning) {
                    let _ = app.emit(SKEW_EVENT, ());
                }
            }
            tokio::time::sleep(CHECK_EVERY).await;
        }
    });
}
