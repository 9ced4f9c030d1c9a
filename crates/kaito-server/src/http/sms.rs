//! The shared SMS inbox: the providers' webhooks, numbers and their grants, and
//! the messages, fetched or live (server-sent events).

use axum::extract::{Query, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use kaito_api::{
    AfterSeq, ApiError, CreatedId, NewNumber, NumberGrant, SmsMessageView, SmsNumberView,
};
use utoipa::ToSchema;

use super::extract::{AdminRole, At, Authenticated, IdPath, JsonBody, Requires, header};
use super::openapi::{EmptyOk, Malformed, Missing, NotAllowed, SignedOut};
use super::reply::{Created, Done, done};
use super::{ServerState, now_ms};
use crate::accounts;
use crate::accounts::Caller;
use crate::error::ServerError;
use crate::ids::{GrantId, NumberId};
use crate::sms;
use crate::sms::{Delivery, InboxWake};
use crate::store::Store;

pub(super) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/v1/sms/twilio", post(twilio_webhook))
        .route("/v1/sms/telnyx", post(telnyx_webhook))
        .route("/v1/sms/vonage", post(vonage_webhook))
        .route("/v1/sms/numbers", get(list_numbers).post(add_number))
        .route("/v1/sms/numbers/{number_id}", delete(remove_number))
        .route("/v1/sms/numbers/{number_id}/grants", post(grant_number))
        .route(
            "/v1/sms/numbers/{number_id}/grants/{grant_id}",
            delete(revoke_number_grant),
        )
        .route("/v1/sms/messages", get(sms_messages))
        .route("/v1/sms/stream", get(sms_stream))
}

/// The fields of Twilio's webhook form that Kaito reads; Twilio sends more.
#[derive(ToSchema)]
#[schema(rename_all = "PascalCase")]
#[allow(dead_code)] // Documentation only: the handler reads the raw form to check its signature.
struct TwilioForm {
    /// Twilio's message id: a retry carries the same one.
    message_sid: String,
    /// The inbox number, E.164.
    to: String,
    /// The sender, E.164.
    from: String,
    /// The text.
    body: String,
}

/// Twilio's inbound SMS webhook.
///
/// `POST /v1/sms/twilio`: Twilio's webhook. Signed calls are answered with an
/// empty `TwiML` `<Response/>` (no reply text), retries included.
#[utoipa::path(
    post,
    path = "/v1/sms/twilio",
    tag = "sms",
    params(
        ("X-Twilio-Signature" = String, Header, description = "Base64 HMAC-SHA1 under the auth token over the webhook URL and the sorted form fields."),
    ),
    request_body(content = inline(TwilioForm), content_type = "application/x-www-form-urlencoded", description = "Twilio's form; every field is signed, including those Kaito does not read."),
    responses(
        (status = 200, description = "Stored, or a retry of a message stored already.", body = String, content_type = "text/xml", example = "<Response/>"),
        (status = 400, description = "A field Kaito reads is missing (`request.invalid`).", body = ApiError),
        (status = 403, description = "The signature is wrong or missing (`signature.invalid`).", body = ApiError),
        (status = 404, description = "Twilio is not configured on this server (`not_found`).", body = ApiError),
    ),
)]
async fn twilio_webhook(
    State(state): State<ServerState>,
    At(at): At,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<([(axum::http::HeaderName, &'static str); 1], &'static str), ServerError> {
    receive(&state, &state.sms.twilio()?, &headers, &body, at).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/xml")],
        "<Response/>",
    ))
}

/// Telnyx's messaging webhook.
///
/// `POST /v1/sms/telnyx`: Telnyx's messaging webhook.
#[utoipa::path(
    post,
    path = "/v1/sms/telnyx",
    tag = "sms",
    params(
        ("telnyx-signature-ed25519" = String, Header, description = "Base64 Ed25519 signature over `{telnyx-timestamp}|{body}`."),
        ("telnyx-timestamp" = String, Header, description = "Unix seconds; refused when over 5 minutes off."),
    ),
    request_body(content = Object, content_type = "application/json", description = "A Telnyx event, verified over its raw bytes. Only `message.received` events are stored; Kaito reads `data.event_type` and `data.payload` `id`, `to[0].phone_number`, `from.phone_number` and `text`."),
    responses(
        (status = 400, description = "Not JSON, or a field Kaito reads is missing (`request.invalid`).", body = ApiError),
        (status = 403, description = "The signature is wrong or missing (`signature.invalid`), or its timestamp over 5 minutes off (`signature.stale`).", body = ApiError),
        (status = 404, description = "Telnyx is not configured on this server (`not_found`).", body = ApiError),
        EmptyOk,
    ),
)]
async fn telnyx_webhook(
    State(state): State<ServerState>,
    At(at): At,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Done {
    receive(&state, &state.sms.telnyx()?, &headers, &body, at).await?;
    done()
}

/// The Vonage Messages API inbound webhook.
///
/// `POST /v1/sms/vonage`: the Vonage Messages API inbound webhook, signed with
/// `Authorization: Bearer` a JWT (HS256 under the signature secret) whose
/// `payload_hash` is the body's SHA-256.
#[utoipa::path(
    post,
    path = "/v1/sms/vonage",
    tag = "sms",
    request_body(content = Object, content_type = "application/json", description = "A Vonage inbound message, verified over its raw bytes. Only `channel: sms` messages are stored; Kaito reads `message_uuid`, `to`, `from` and `text`."),
    responses(
        (status = 400, description = "Not JSON, or a field Kaito reads is missing (`request.invalid`).", body = ApiError),
        (status = 403, description = "The JWT is wrong, missing or not for this body (`signature.invalid`), or over 5 minutes old (`signature.stale`).", body = ApiError),
        (status = 404, description = "Vonage is not configured on this server (`not_found`).", body = ApiError),
        EmptyOk,
    ),
)]
async fn vonage_webhook(
    State(state): State<ServerState>,
    At(at): At,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Done {
    receive(&state, &state.sms.vonage()?, &headers, &body, at).await?;
    done()
}

/// Stores a webhook's message and wakes the live streams that may show it.
async fn receive(
    state: &ServerState,
    provider: &dyn sms::SmsProvider,
    headers: &axum::http::HeaderMap,
    body: &[u8],
    at: i64,
) -> Result<(), ServerError> {
    let call = sms::WebhookCall { headers, body };
    if let Some(arrived) = sms::receive(&state.store, provider, &call, at).await? {
        state.announce(arrived);
    }
    Ok(())
}

/// Adds a phone number to the shared SMS inbox (admins, where the operator allows
/// it with `--team-admins-add-numbers`; otherwise `kaito-server admin add-number`).
#[utoipa::path(
    post,
    path = "/v1/sms/numbers",
    tag = "sms",
    request_body = NewNumber,
    responses(
        (status = 200, description = "The new number's id.", body = CreatedId),
        (status = 403, description = "Not an admin, or the operator assigns numbers on this server (`sms.operator_assigns_numbers`).", body = ApiError),
        (status = 409, description = "The number is held already (`conflict`).", body = ApiError),
        Malformed, SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn add_number(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    JsonBody(request): JsonBody<NewNumber>,
) -> Result<Created<NumberId>, ServerError> {
    if !state.sms.team_admins_add_numbers {
        return Err(ServerError::OperatorAssignsNumbers);
    }
    let number_id = sms::add_number(
        &state.store,
        &admin.caller,
        &request.phone_number,
        &request.label,
        admin.at,
    )
    .await?;
    Ok(Created(number_id))
}

/// Lets a member or a group read a number's messages (admins).
#[utoipa::path(
    post,
    path = "/v1/sms/numbers/{number_id}/grants",
    tag = "sms",
    params(
        ("number_id" = String, Path, description = "The phone number."),
    ),
    request_body = NumberGrant,
    responses(
        (status = 200, description = "The new grant's id (to revoke it with).", body = CreatedId),
        Malformed, SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn grant_number(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath(number_id): IdPath<NumberId>,
    JsonBody(request): JsonBody<NumberGrant>,
) -> Result<Created<GrantId>, ServerError> {
    let subject =
        accounts::GrantSubject::from_ids(request.user_id.as_deref(), request.group_id.as_deref())?;
    let grant_id = sms::grant_number(
        &state.store,
        &admin.caller,
        number_id.as_str(),
        &subject,
        admin.at,
    )
    .await?;
    Ok(Created(grant_id))
}

/// The team's inbox numbers and who may read each (admins).
#[utoipa::path(
    get,
    path = "/v1/sms/numbers",
    tag = "sms",
    responses(
        (status = 200, description = "The numbers, with their grants.", body = Vec<SmsNumberView>),
        SignedOut, NotAllowed,
    ),
    security(("bearer" = [])),
)]
async fn list_numbers(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
) -> Result<Json<Vec<SmsNumberView>>, ServerError> {
    sms::list_numbers(&state.store, &admin.caller.team_id)
        .await
        .map(Json)
}

/// Withdraws a member's or group's access to a number, at once (admins).
#[utoipa::path(
    delete,
    path = "/v1/sms/numbers/{number_id}/grants/{grant_id}",
    tag = "sms",
    params(
        ("number_id" = String, Path, description = "The phone number."),
        ("grant_id" = String, Path, description = "The grant to withdraw."),
    ),
    responses(
        EmptyOk, SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn revoke_number_grant(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath((number_id, grant_id)): IdPath<(NumberId, GrantId)>,
) -> Done {
    let ids = (number_id.as_str(), grant_id.as_str());
    sms::revoke_number_grant(&state.store, &admin.caller, ids, admin.at).await?;
    done()
}

/// Removes a number from the team's inbox, with its grants and stored texts (admins).
#[utoipa::path(
    delete,
    path = "/v1/sms/numbers/{number_id}",
    tag = "sms",
    params(
        ("number_id" = String, Path, description = "The phone number to remove."),
    ),
    responses(
        EmptyOk, SignedOut, NotAllowed, Missing,
    ),
    security(("bearer" = [])),
)]
async fn remove_number(
    State(state): State<ServerState>,
    admin: Requires<AdminRole>,
    IdPath(number_id): IdPath<NumberId>,
) -> Done {
    sms::remove_number(&state.store, &admin.caller, number_id.as_str(), admin.at).await?;
    done()
}

/// Text messages the caller may read, after a seq.
#[utoipa::path(
    get,
    path = "/v1/sms/messages",
    tag = "sms",
    params(
        AfterSeq,
    ),
    responses(
        (status = 200, description = "Up to 500 messages, oldest first.", body = Vec<SmsMessageView>),
        Malformed, SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn sms_messages(
    State(state): State<ServerState>,
    Authenticated { caller, at }: Authenticated,
    Query(query): Query<AfterSeq>,
) -> Result<Json<Vec<SmsMessageView>>, ServerError> {
    let page = (query.after, 500);
    sms::deliver_messages(
        (&state.store, &state.sms_deliveries),
        &caller,
        page,
        Delivery::Fetch,
        at,
    )
    .await
    .map(Json)
}

/// What a live stream holds between events.
struct LiveInbox {
    /// Held for the stream's life: its end gives the member's slot back.
    _slot: crate::sms::stream_slots::StreamSlot,
    store: Store,
    deliveries: crate::sms::delivery_log::DeliveryLog,
    caller: Caller,
    wakes: tokio::sync::broadcast::Receiver<InboxWake>,
    cursor: i64,
    pending: std::collections::VecDeque<SmsMessageView>,
}

/// Text messages the caller may read, live.
///
/// `GET /v1/sms/stream`: server-sent events, one `sms` event per message the caller
/// may read, with the message's seq as event id. A reconnect with `Last-Event-ID`
/// (or `?after=`) first replays what was missed. The stream ends when the caller's
/// session is revoked.
#[utoipa::path(
    get,
    path = "/v1/sms/stream",
    tag = "sms",
    params(
        AfterSeq,
        ("Last-Event-ID" = Option<i64>, Header, description = "On reconnect: the last seq received; overrides `after`."),
    ),
    responses(
        (status = 200, description = "Server-sent events: each `sms` event's data is an `SmsMessageView` as JSON, its id the message's seq.", body = String, content_type = "text/event-stream"),
        (status = 429, description = "The member has 8 live streams open already (`sms.too_many_streams`).", body = ApiError),
        Malformed, SignedOut,
    ),
    security(("bearer" = [])),
)]
async fn sms_stream(
    State(state): State<ServerState>,
    Authenticated { caller, at }: Authenticated,
    headers: axum::http::HeaderMap,
    Query(query): Query<AfterSeq>,
) -> Result<
    axum::response::sse::Sse<
        impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
    >,
    ServerError,
> {
    let after = header(&headers, "last-event-id")
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(query.after);
    let slot = state.sms_streams.take(&caller.user_id)?;
    // Subscribed before the backlog is read, so nothing falls between the two.
    let wakes = state.sms_wakes.subscribe();
    let backlog = sms::deliver_messages(
        (&state.store, &state.sms_deliveries),
        &caller,
        (after, 500),
        Delivery::Stream,
        at,
    )
    .await?;
    let inbox = LiveInbox {
        _slot: slot,
        store: state.store.clone(),
        deliveries: state.sms_deliveries.clone(),
        caller,
        wakes,
        cursor: after,
        pending: backlog.into(),
    };
    let stream = futures_util::stream::unfold(inbox, |mut inbox| async move {
        loop {
            if let Some(message) = inbox.pending.pop_front() {
                inbox.cursor = inbox.cursor.max(message.seq);
                let event = axum::response::sse::Event::default()
                    .event("sms")
                    .id(message.seq.to_string())
                    .json_data(&message)
                    .ok()?;
                return Some((Ok(event), inbox));
            }
            match inbox.wakes.recv().await {
                Ok(InboxWake::Arrived(team_id)) if team_id != inbox.caller.team_id => {}
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    if !// The time of each wake, not the stream's start: a
                    // session that expires meanwhile ends the stream.
                    accounts::still_signed_in(&inbox.store, &inbox.caller, now_ms())
                        .await
                        .unwrap_or(false)
                    {
                        return None;
                    }
                    let page = (inbox.cursor, 500);
                    let delivered = sms::deliver_messages(
                        (&inbox.store, &inbox.deliveries),
                        &inbox.caller,
                        page,
                        Delivery::Stream,
                        now_ms(),
                    );
                    match delivered.await {
                        Ok(messages) => inbox.pending.extend(messages),
                        Err(error) => {
                            tracing::warn!(%error, "live SMS stream ended");
                            return None;
                        }
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(axum::response::sse::Sse::new(stream).keep_alive(axum::response::sse::KeepAlive::default()))
}
