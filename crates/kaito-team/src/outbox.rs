//! The team audit outbox: views and copies of shared tokens recorded on this device,
//! sent to the server in Ed25519-signed batches.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kaito_api::{BatchReceipt, DeviceEvent, EventBatch, paths};
use kaito_vault::Vault;
use zeroize::Zeroizing;

use crate::client::{TeamClient, blocking, read};
use crate::error::TeamError;
use crate::secrets::TeamSecrets;

/// Most events one outbox batch carries.
pub const OUTBOX_BATCH: u32 = 500;

/// What one sync sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Events the server recorded now.
    pub accepted: u32,
    /// Events it had already (a resend after an interrupted sync).
    pub duplicates: u32,
}

/// An event of a shared token this device records for the team's audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamEventKind {
    CodeViewed,
    CodeCopied,
    SeedRevealed,
    /// A code from the shared SMS inbox; the subject is the number.
    SmsCodeCopied,
}

impl TeamEventKind {
    /// The server's name for it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CodeViewed => "code.viewed",
            Self::CodeCopied => "code.copied",
            Self::SeedRevealed => "seed.revealed",
            Self::SmsCodeCopied => "sms.code_copied",
        }
    }
}

/// Where on this device a code was seen or copied, as the team's log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Window,
    Tray,
    Palette,
    Inbox,
}

impl Surface {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Window => "window",
            Self::Tray => "tray",
            Self::Palette => "palette",
            Self::Inbox => "inbox",
        }
    }
}

/// Records that a shared token's code was viewed or copied here (or its seed
/// revealed), for the next sync.
pub async fn record_event(
    vault: &Vault,
    token_id: &str,
    kind: TeamEventKind,
    surface: Surface,
) -> Result<(), TeamError> {
    let details = serde_json::json!({ "surface": surface.as_str() });
    Ok(vault
        .queue_team_event(token_id, kind.as_str(), &details)
        .await?)
}

/// Records that the code of inbox message `seq` on number `number_id` was copied.
pub async fn record_sms_code_copy(
    vault: &Vault,
    number_id: &str,
    seq: i64,
    surface: Surface,
) -> Result<(), TeamError> {
    let details = serde_json::json!({ "surface": surface.as_str(), "message_seq": seq });
    Ok(vault
        .queue_team_event(number_id, TeamEventKind::SmsCodeCopied.as_str(), &details)
        .await?)
}

impl TeamClient {
    /// Sends the outbox's unsent events in signed batches of up to [`OUTBOX_BATCH`],
    /// oldest first, marking each batch sent only once the server took it. A crash
    /// between the two resends the batch, which the server counts once (it keys on
    /// event ids), so nothing is lost and nothing counted twice.
    pub async fn sync_outbox(&self, vault: &Vault) -> Result<SyncReport, TeamError> {
        let mut report = SyncReport::default();
        loop {
            let events = vault.team_outbox_unsent(OUTBOX_BATCH).await?;
            let Some(last) = events.last().map(|event| event.seq) else {
                return Ok(report);
            };
            let events = events
                .into_iter()
                .map(|event| DeviceEvent {
                    event_id: event.event_id,
                    seq: event.seq,
                    at: event.at,
                    kind: event.kind,
                    token_id: Some(event.subject),
                    details: event.details,
                })
                .collect();
            let body = serde_json::to_vec(&EventBatch {
                device_id: self.link.device_id.clone(),
                events,
            })
            .map_err(|error| TeamError::Protocol(format!("a batch: {error}")))?;
            let signature = self.sign(&body).await?;
            let receipt: BatchReceipt = self.post_batch(&body, &signature).await?;
            vault.mark_team_events_sent(last).await?;
            report.accepted += receipt.accepted;
            report.duplicates += receipt.duplicates;
        }
    }

    async fn sign(&self, body: &[u8]) -> Result<String, TeamError> {
        use ed25519_dalek::Signer as _;
        let slot = self.secrets.clone();
        let text = blocking(move || slot.load())
            .await?
            .ok_or(TeamError::SignedOut)?;
        let secrets = TeamSecrets::from_text(&text)?;
        let damaged =
            || TeamError::Protocol("the device key in the keychain is damaged".to_owned());
        let seed: Zeroizing<Vec<u8>> = Zeroizing::new(
            STANDARD
                .decode(secrets.device_key.as_bytes())
                .map_err(|_| damaged())?,
        );
        let seed: &[u8; 32] = seed.as_slice().try_into().map_err(|_| damaged())?;
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        Ok(STANDARD.encode(key.sign(body).to_bytes()))
    }

    async fn post_batch(&self, body: &[u8], signature: &str) -> Result<BatchReceipt, TeamError> {
        let url = format!("{}{}", self.link.server_url, paths::event_batch());
        let response = self
            .send_signed_in(|token| {
                self.http
                    .post(&url)
                    .bearer_auth(token)
                    .header("content-type", "application/json")
                    .header("x-kaito-signature", signature)
                    .body(body.to_vec())
            })
            .await?;
        if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse().ok())
                .map_or(Duration::from_secs(30), Duration::from_secs);
            return Err(TeamError::RetryLater { after });
        }
        read(response).await
    }
}
