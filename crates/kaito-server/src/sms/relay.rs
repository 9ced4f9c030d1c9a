//! Word of new messages between replicas (PostgreSQL `LISTEN`/`NOTIFY`).

use super::InboxWake;
use crate::ids::TeamId;

/// The PostgreSQL channel on which every replica hears of new messages.
pub const NOTIFY_CHANNEL: &str = "kaito_sms";

/// Relays PostgreSQL notifications of new messages (from any replica) to this
/// replica's live streams, for as long as the server runs. Notifications sent while
/// the connection was down are lost, so each reconnect wakes every stream to catch
/// up from its cursor.
pub async fn relay_notifications(
    database_url: String,
    wakes: tokio::sync::broadcast::Sender<InboxWake>,
) {
    loop {
        match sqlx::postgres::PgListener::connect(&database_url).await {
            Ok(mut listener) => match listener.listen(NOTIFY_CHANNEL).await {
                Ok(()) => {
                    let _ = wakes.send(InboxWake::CatchUp);
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(notification)) => {
                                let team_id =
                                    TeamId::from_stored(notification.payload().to_owned());
                                let _ = wakes.send(InboxWake::Arrived(team_id));
                            }
                            // Lost and reconnecting on the next call.
                            Ok(None) => {
                                tracing::warn!(
                                    "the SMS relay lost its PostgreSQL connection; reconnecting"
                                );
                                let _ = wakes.send(InboxWake::CatchUp);
                            }
                            Err(error) => {
                                tracing::warn!(%error, "the SMS relay stopped; restarting");
                                break;
                            }
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "the SMS relay cannot listen"),
            },
            Err(error) => tracing::warn!(%error, "the SMS relay cannot connect"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
