//! The shared SMS inbox on SQLite and PostgreSQL: signed Twilio webhooks stored once
//! with their code picked out, forged and replayed ones refused or ignored, only
//! permitted members reading a number, and the live stream with Last-Event-ID replay.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use std::time::Duration;

use common::inbox::{
    NUMBER, inbox, messages, next_sms, open_stream, post_webhook, signed, twilio_form,
};
use common::{TWILIO_AUTH_TOKEN, TWILIO_URL, servers};
use kaito_server::sms::twilio_signature;
use serde_json::json;

#[tokio::test]
async fn signed_webhooks_are_stored_once_and_forged_ones_refused() {
    for server in servers().await {
        let label = server.label;
        let inbox = inbox(&server).await;

        let (status, kind, reply) =
            signed(&server, "SM001", "Your Acme verification code is 482913.").await;
        assert_eq!(
            (status, kind.as_str(), reply.as_str()),
            (200, "text/xml", "<Response/>"),
            "{label}"
        );
        // Twilio retries the same message: still one.
        let (status, _, _) =
            signed(&server, "SM001", "Your Acme verification code is 482913.").await;
        assert_eq!(status, 200, "{label}");

        let seen = messages(&server, &inbox.reader).await;
        assert_eq!(seen.len(), 1, "{label}");
        assert_eq!(
            (
                seen[0].code.as_deref(),
                seen[0].phone_number.as_str(),
                seen[0].label.as_str(),
                seen[0].from.as_str()
            ),
            (Some("482913"), NUMBER, "Shared ops phone", "+15550199999"),
            "{label}"
        );
        assert!(
            messages(&server, &inbox.outsider).await.is_empty(),
            "{label}: no grant, no messages"
        );

        // Forged: wrong signature, no signature, a changed body under a real signature.
        let form = twilio_form("SM002", NUMBER, "Your code is 111111");
        let (forged, _, forged_body) = post_webhook(&server, &form, "bm90IGEgc2lnbmF0dXJl").await;
        assert_eq!(forged, 403, "{label}");
        assert!(forged_body.contains("signature.invalid"), "{forged_body}");
        let original = twilio_form("SM003", NUMBER, "Your code is 222222");
        let signature = twilio_signature(TWILIO_AUTH_TOKEN, TWILIO_URL, &original);
        let tampered = twilio_form("SM003", NUMBER, "Your code is 999999");
        assert_eq!(
            post_webhook(&server, &tampered, &signature).await.0,
            403,
            "{label}"
        );
        let signed_elsewhere = twilio_signature(
            TWILIO_AUTH_TOKEN,
            "https://evil.example.com/v1/sms/twilio",
            &original,
        );
        assert_eq!(
            post_webhook(&server, &original, &signed_elsewhere).await.0,
            403,
            "{label}"
        );
        assert_eq!(
            messages(&server, &inbox.reader).await.len(),
            1,
            "{label}: nothing forged stored"
        );

        // A number nobody holds: accepted (no retries) and dropped.
        let stranger = twilio_form("SM004", "+15550177777", "code 333333");
        let stranger_signature = twilio_signature(TWILIO_AUTH_TOKEN, TWILIO_URL, &stranger);
        assert_eq!(
            post_webhook(&server, &stranger, &stranger_signature)
                .await
                .0,
            200,
            "{label}"
        );
        assert_eq!(messages(&server, &inbox.reader).await.len(), 1, "{label}");

        // The audit log says a message came, never its text or code.
        let events = server
            .get(
                "/v1/audit/events?limit=1000",
                Some(&inbox.owner.access_token),
            )
            .await;
        let received: Vec<&serde_json::Value> = events
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter(|event| event["kind"] == "sms.received")
            .collect();
        assert_eq!(received.len(), 1, "{label}");
        assert!(
            !events.body.to_string().contains("482913"),
            "{label}: a code in the audit log"
        );
    }
}

#[tokio::test]
async fn members_get_messages_live_and_catch_up_after_a_reconnect() {
    for server in servers().await {
        let label = server.label;
        let inbox = inbox(&server).await;

        let mut live = open_stream(&server, &inbox.reader, None).await;
        let mut buffer = String::new();
        signed(&server, "SM100", "Use 123-456 to sign in to Contoso").await;
        let (first_id, first) = next_sms(&mut live, &mut buffer).await;
        assert_eq!(
            (first.code.as_deref(), first.body.as_str()),
            (Some("123456"), "Use 123-456 to sign in to Contoso"),
            "{label}"
        );
        drop(live);

        // Offline for two messages; a reconnect from the last id replays them, in order.
        signed(&server, "SM101", "Amazon: 8841 is your one-time passcode").await;
        signed(
            &server,
            "SM102",
            "G-572810 is your Google verification code.",
        )
        .await;
        let mut again = open_stream(&server, &inbox.reader, Some(&first_id)).await;
        let mut buffer = String::new();
        let (_, second) = next_sms(&mut again, &mut buffer).await;
        let (_, third) = next_sms(&mut again, &mut buffer).await;
        assert_eq!(
            (second.code.as_deref(), third.code.as_deref()),
            (Some("8841"), Some("572810")),
            "{label}"
        );
        assert!(second.seq > first.seq && third.seq > second.seq);

        // Someone without a grant hears nothing of it; the reader does.
        let mut outsider = open_stream(&server, &inbox.outsider, None).await;
        signed(&server, "SM103", "Your PIN is 5521").await;
        let (_, fourth) = next_sms(&mut again, &mut buffer).await;
        assert_eq!(fourth.code.as_deref(), Some("5521"), "{label}");
        let heard = tokio::time::timeout(Duration::from_millis(500), outsider.chunk()).await;
        assert!(
            heard.is_err()
                || !String::from_utf8_lossy(&heard.unwrap().unwrap().unwrap_or_default())
                    .contains("5521"),
            "{label}: the outsider got a message"
        );
    }
}

/// Posts `body` to a provider's webhook with `headers`; returns status and error code.
async fn post_json(
    server: &common::TestServer,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (u16, String) {
    let mut request = server
        .client
        .post(format!("{}{path}", server.base))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let answer: serde_json::Value = response.json().await.unwrap();
    (status, answer["code"].as_str().unwrap_or("").to_owned())
}

fn telnyx_body(event_type: &str, message_id: &str, text: &str) -> String {
    serde_json::json!({
        "data": {
            "event_type": event_type,
            "id": format!("evt-{message_id}"),
            "record_type": "event",
            "payload": {
                "id": message_id,
                "type": "SMS",
                "from": { "phone_number": "+15550199999" },
                "to": [{ "phone_number": NUMBER, "status": "webhook_delivered" }],
                "text": text,
            }
        }
    })
    .to_string()
}

fn telnyx_headers(
    key: &ed25519_dalek::SigningKey,
    timestamp: i64,
    body: &str,
) -> Vec<(&'static str, String)> {
    use ed25519_dalek::Signer as _;
    let signature = key.sign(format!("{timestamp}|{body}").as_bytes());
    vec![
        ("telnyx-timestamp", timestamp.to_string()),
        (
            "telnyx-signature-ed25519",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                signature.to_bytes(),
            ),
        ),
    ]
}

#[tokio::test]
async fn telnyx_webhooks_are_checked_against_the_account_key_and_a_five_minute_window() {
    for server in servers().await {
        let label = server.label;
        let inbox = inbox(&server).await;
        let key = common::telnyx_signing_key();
        let now = kaito_server::http::now_ms() / 1000;
        let body = telnyx_body(
            "message.received",
            "40317f5a-telnyx",
            "Your Okta code is 402913",
        );
        let headers = telnyx_headers(&key, now, &body);
        assert_eq!(
            post_json(&server, "/v1/sms/telnyx", &headers, &body)
                .await
                .0,
            200,
            "{label}"
        );
        // Replayed within the window: acknowledged, stored once.
        assert_eq!(
            post_json(&server, "/v1/sms/telnyx", &headers, &body)
                .await
                .0,
            200,
            "{label}"
        );
        let seen = messages(&server, &inbox.reader).await;
        assert_eq!(seen.len(), 1, "{label}");
        assert_eq!(
            (seen[0].code.as_deref(), seen[0].from.as_str()),
            (Some("402913"), "+15550199999"),
            "{label}"
        );

        let forger = ed25519_dalek::SigningKey::from_bytes(&[8; 32]);
        let forged_body = telnyx_body("message.received", "forged-1", "Your code is 111111");
        let changed = body.replace("402913", "999999");
        let old = telnyx_body("message.received", "old-1", "Your code is 222222");
        for (why, headers, body, refusal) in [
            (
                "signed with another key",
                telnyx_headers(&forger, now, &forged_body),
                &forged_body,
                "signature.invalid",
            ),
            (
                "signed, then changed on the way",
                headers.clone(),
                &changed,
                "signature.invalid",
            ),
            (
                "correctly signed ten minutes ago: a captured call replayed later",
                telnyx_headers(&key, now - 600, &old),
                &old,
                "signature.stale",
            ),
            ("not signed", Vec::new(), &old, "signature.invalid"),
        ] {
            assert_eq!(
                post_json(&server, "/v1/sms/telnyx", &headers, body).await,
                (403, refusal.to_owned()),
                "{label}: {why}"
            );
        }
        // Delivery reports are acknowledged and not stored as messages.
        let report = telnyx_body("message.finalized", "out-1", "sent by us");
        assert_eq!(
            post_json(
                &server,
                "/v1/sms/telnyx",
                &telnyx_headers(&key, now, &report),
                &report
            )
            .await
            .0,
            200,
            "{label}"
        );
        assert_eq!(messages(&server, &inbox.reader).await.len(), 1, "{label}");
    }
}

fn vonage_body(message_id: &str, text: &str) -> String {
    serde_json::json!({
        "channel": "sms",
        "message_uuid": message_id,
        "message_type": "text",
        "to": NUMBER.trim_start_matches('+'),
        "from": "447700900001",
        "timestamp": "2026-11-29T15:00:00Z",
        "text": text,
        "sms": { "num_messages": "1" },
    })
    .to_string()
}

#[tokio::test]
async fn vonage_webhooks_need_a_jwt_over_the_body_from_the_last_five_minutes() {
    use kaito_server::sms::vonage_jwt;
    for server in servers().await {
        let label = server.label;
        let inbox = inbox(&server).await;
        let secret = common::VONAGE_SECRET.as_bytes();
        let now = kaito_server::http::now_ms() / 1000;
        let body = vonage_body(
            "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
            "Your Stripe code: 663 120",
        );
        let bearer = |token: String| vec![("authorization", format!("Bearer {token}"))];
        let signed = bearer(vonage_jwt(secret, body.as_bytes(), now));
        assert_eq!(
            post_json(&server, "/v1/sms/vonage", &signed, &body).await.0,
            200,
            "{label}"
        );
        assert_eq!(
            post_json(&server, "/v1/sms/vonage", &signed, &body).await.0,
            200,
            "{label}"
        );
        let seen = messages(&server, &inbox.reader).await;
        assert_eq!(seen.len(), 1, "{label}");
        assert_eq!(
            (
                seen[0].code.as_deref(),
                seen[0].from.as_str(),
                seen[0].phone_number.as_str()
            ),
            (Some("663120"), "+447700900001", NUMBER),
            "{label}"
        );

        let other = vonage_body("aaaaaaaa-bbbb-cccc-dddd-000000000002", "Your code: 123456");
        for (headers, expected) in [
            (
                bearer(vonage_jwt(b"not the secret", other.as_bytes(), now)),
                "signature.invalid",
            ),
            // A token made for another body.
            (
                bearer(vonage_jwt(secret, body.as_bytes(), now)),
                "signature.invalid",
            ),
            (
                bearer(vonage_jwt(secret, other.as_bytes(), now - 600)),
                "signature.stale",
            ),
            (vec![], "signature.invalid"),
        ] {
            assert_eq!(
                post_json(&server, "/v1/sms/vonage", &headers, &other).await,
                (403, expected.to_owned()),
                "{label}"
            );
        }
        assert_eq!(messages(&server, &inbox.reader).await.len(), 1, "{label}");
    }
}

#[tokio::test]
async fn admins_withdraw_a_grant_and_remove_a_number_and_its_texts() {
    for server in servers().await {
        let label = server.label;
        let inbox = inbox(&server).await;
        let admin = Some(inbox.owner.access_token.as_str());
        signed(&server, "SM200", "Your code is 246810").await;
        assert_eq!(messages(&server, &inbox.reader).await.len(), 1, "{label}");

        // The admin sees the number and who may read it.
        let numbers: Vec<kaito_api::SmsNumberView> =
            server.get("/v1/sms/numbers", admin).await.parse();
        assert_eq!(numbers.len(), 1, "{label}");
        let number = &numbers[0];
        assert_eq!(number.phone_number, NUMBER);
        assert_eq!(number.grants.len(), 1, "{label}");
        let grant = &number.grants[0];
        assert!(grant.group_id.is_some() && grant.user_id.is_none());

        // Withdrawn: the reader sees nothing, old or new, at once.
        let path = format!("/v1/sms/numbers/{}/grants/{}", number.id, grant.id);
        assert_eq!(server.delete(&path, admin).await.status, 200, "{label}");
        assert!(messages(&server, &inbox.reader).await.is_empty(), "{label}");
        signed(&server, "SM201", "Your code is 135790").await;
        assert!(messages(&server, &inbox.reader).await.is_empty(), "{label}");
        let again = server.delete(&path, admin).await;
        assert_eq!((again.status, again.code()), (404, "not_found"), "{label}");

        // A direct grant, then the number removed with what it held.
        let direct = server
            .post(
                &format!("/v1/sms/numbers/{}/grants", number.id),
                admin,
                &json!({ "user_id": inbox.reader_id }),
            )
            .await;
        assert!(
            direct.body["id"].as_str().is_some(),
            "{label}: {}",
            direct.body
        );
        assert_eq!(messages(&server, &inbox.reader).await.len(), 2, "{label}");
        let removed = server
            .delete(&format!("/v1/sms/numbers/{}", number.id), admin)
            .await;
        assert_eq!(removed.status, 200, "{label}: {}", removed.body);
        assert!(messages(&server, &inbox.reader).await.is_empty(), "{label}");
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_messages")
            .fetch_one(server.store.pool())
            .await
            .unwrap();
        assert_eq!(stored, 0, "{label}: the texts and their codes are gone");
        let numbers: Vec<kaito_api::SmsNumberView> =
            server.get("/v1/sms/numbers", admin).await.parse();
        assert!(numbers.is_empty(), "{label}");
        // Texts to it now are dropped; the number can be added again.
        signed(&server, "SM202", "Your code is 999111").await;
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_messages")
            .fetch_one(server.store.pool())
            .await
            .unwrap();
        assert_eq!(stored, 0, "{label}");
        let readded = server
            .post("/v1/sms/numbers", admin, &json!({ "phone_number": NUMBER }))
            .await;
        assert_eq!(readded.status, 200, "{label}");

        // Both withdrawals are in the audit log, without any text.
        let events: Vec<kaito_api::AuditEventView> = server
            .get("/v1/audit/events?limit=500", admin)
            .await
            .parse();
        let kinds: Vec<&str> = events.iter().map(|event| event.kind.as_str()).collect();
        assert!(kinds.contains(&"sms.grant_revoked"), "{label}: {kinds:?}");
        let removal = events
            .iter()
            .find(|event| event.kind == "sms.number_removed")
            .unwrap();
        assert_eq!(removal.details["messages_removed"], json!(2), "{label}");
        let log = serde_json::to_string(&events).unwrap();
        assert!(
            !log.contains("246810") && !log.contains("135790"),
            "{label}"
        );
    }
}

#[tokio::test]
async fn every_text_handed_to_a_member_is_in_the_audit_log_fetched_or_live() {
    for server in servers().await {
        let label = server.label;
        let inbox = inbox(&server).await;
        let admin = Some(inbox.owner.access_token.as_str());
        let mut live = open_stream(&server, &inbox.reader, None).await;
        let mut buffer = String::new();
        signed(&server, "SM300", "Your code is 314159").await;
        let (_, streamed) = next_sms(&mut live, &mut buffer).await;
        let fetched = messages(&server, &inbox.reader).await;
        assert_eq!(fetched.len(), 1, "{label}");
        // Nothing to read, nothing recorded.
        assert!(messages(&server, &inbox.outsider).await.is_empty());

        let events: Vec<kaito_api::AuditEventView> = server
            .get("/v1/audit/events?limit=500", admin)
            .await
            .parse();
        let delivered: Vec<_> = events
            .iter()
            .filter(|event| event.kind == "sms.delivered")
            .collect();
        let via: Vec<&str> = delivered
            .iter()
            .map(|event| event.details["via"].as_str().unwrap())
            .collect();
        assert_eq!(via, ["stream", "fetch"], "{label}");
        for event in &delivered {
            assert_eq!(event.actor.as_deref(), Some(inbox.reader_id.as_str()));
            assert_eq!(event.details["seqs"], json!([streamed.seq]), "{label}");
            assert_eq!(event.subject.as_deref(), Some(streamed.number_id.as_str()));
        }
        assert!(!serde_json::to_string(&events).unwrap().contains("314159"));
    }
}

#[tokio::test]
async fn by_default_the_operator_assigns_inbox_numbers_and_admins_cannot_claim_them() {
    let server = common::sqlite_server_with(|mut state| {
        state.sms = std::sync::Arc::new(kaito_server::sms::SmsConfig {
            twilio_webhook_url: Some(TWILIO_URL.to_owned()),
            twilio_auth_token: Some(zeroize::Zeroizing::new(TWILIO_AUTH_TOKEN.to_owned())),
            ..kaito_server::sms::SmsConfig::default()
        });
        state
    })
    .await;
    let owner = server.acme_owner().await;
    let rival = server.rival_owner().await;
    let claim = |bearer: String| {
        let server = &server;
        async move {
            server
                .post(
                    "/v1/sms/numbers",
                    Some(&bearer),
                    &json!({ "phone_number": NUMBER, "label": "mine" }),
                )
                .await
        }
    };
    let refused = claim(rival.access_token.clone()).await;
    assert_eq!(
        (refused.status, refused.code()),
        (403, "sms.operator_assigns_numbers")
    );
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("admin add-number")
    );

    let me: kaito_api::MeView = server
        .get("/v1/me", Some(&owner.access_token))
        .await
        .parse();
    let team_id = kaito_server::ids::TeamId::from_stored(me.team_id.clone());
    let number_id = kaito_server::sms::assign_number(
        &server.store,
        &team_id,
        NUMBER,
        "Ops",
        kaito_server::http::now_ms(),
    )
    .await
    .unwrap();
    let numbers: Vec<kaito_api::SmsNumberView> = server
        .get("/v1/sms/numbers", Some(&owner.access_token))
        .await
        .parse();
    assert_eq!(numbers[0].id, number_id.as_str());
    // Texts to it reach Acme's inbox, and the rival still cannot claim it.
    assert_eq!(signed(&server, "SM400", "Code 1234").await.0, 200);
    assert_eq!(claim(rival.access_token.clone()).await.status, 403);
    let events: Vec<kaito_api::AuditEventView> = server
        .get("/v1/audit/events?limit=500", Some(&owner.access_token))
        .await
        .parse();
    let added = events
        .iter()
        .find(|event| event.kind == "sms.number_added")
        .unwrap();
    assert_eq!(added.actor, None, "the operator acted");
    assert!(events.iter().any(|event| event.kind == "sms.received"));
}
