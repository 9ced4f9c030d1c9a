//! The shared SMS inbox on SQLite and PostgreSQL: signed Twilio webhooks stored once
//! with their code picked out, forged and replayed ones refused or ignored, only
//! permitted members reading a number, and the live stream with Last-Event-ID replay.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use std::time::Duration;

use common::{MEMBER_PASSWORD, TWILIO_AUTH_TOKEN, TWILIO_URL, TestServer, servers};
use kaito_api::{SmsMessageView, TokenPair};
use kaito_server::sms::twilio_signature;
use serde_json::json;

const NUMBER: &str = "+15550100123";

fn twilio_form(message_id: &str, to: &str, body: &str) -> Vec<(String, String)> {
    [
        ("MessageSid", message_id),
        ("AccountSid", "AC0000000000000000000000000000000"),
        ("From", "+15550199999"),
        ("To", to),
        ("Body", body),
        ("NumMedia", "0"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// Posts `form` to the webhook as Twilio would, with `signature`.
async fn post_webhook(
    server: &TestServer,
    form: &[(String, String)],
    signature: &str,
) -> (u16, String, String) {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let response = server
        .client
        .post(format!("{}/v1/sms/twilio", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, response.text().await.unwrap())
}

async fn signed(server: &TestServer, message_id: &str, body: &str) -> (u16, String, String) {
    let form = twilio_form(message_id, NUMBER, body);
    post_webhook(
        server,
        &form,
        &twilio_signature(TWILIO_AUTH_TOKEN, TWILIO_URL, &form),
    )
    .await
}

struct Inbox {
    owner: TokenPair,
    reader: TokenPair,
    outsider: TokenPair,
}

async fn inbox(server: &TestServer) -> Inbox {
    let owner = server.acme_owner().await;
    let admin = Some(owner.access_token.as_str());
    let ids = [
        server.add_member(&owner, "mia@example.com", "member").await,
        server.add_member(&owner, "sam@example.com", "member").await,
    ];
    let bad = server
        .post(
            "/v1/sms/numbers",
            admin,
            &json!({ "phone_number": "555-0100" }),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (400, "request.invalid"));
    let number = server
        .post(
            "/v1/sms/numbers",
            admin,
            &json!({ "phone_number": NUMBER, "label": "Shared ops phone" }),
        )
        .await;
    assert_eq!(number.status, 200, "{}", number.body);
    let number_id = number.body["id"].as_str().unwrap();
    // Mia reads it through a group; Sam has no grant.
    let group = server
        .post("/v1/groups", admin, &json!({ "name": "Ops" }))
        .await;
    let group_id = group.body["id"].as_str().unwrap();
    server
        .post(
            &format!("/v1/groups/{group_id}/members"),
            admin,
            &json!({ "user_id": ids[0] }),
        )
        .await;
    let granted = server
        .post(
            &format!("/v1/sms/numbers/{number_id}/grants"),
            admin,
            &json!({ "group_id": group_id }),
        )
        .await;
    assert_eq!(granted.status, 200, "{}", granted.body);
    Inbox {
        owner,
        reader: server
            .login("mia@example.com", MEMBER_PASSWORD)
            .await
            .parse(),
        outsider: server
            .login("sam@example.com", MEMBER_PASSWORD)
            .await
            .parse(),
    }
}

async fn messages(server: &TestServer, who: &TokenPair) -> Vec<SmsMessageView> {
    server
        .get("/v1/sms/messages", Some(&who.access_token))
        .await
        .parse()
}

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

/// Reads server-sent events from `response` until one `sms` event arrives.
async fn next_sms(
    response: &mut reqwest::Response,
    buffer: &mut String,
) -> (String, SmsMessageView) {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| {
                frame
                    .lines()
                    .find_map(|line| line.strip_prefix(name).map(|value| value.trim().to_owned()))
            };
            if field("event:").as_deref() == Some("sms") {
                let data: SmsMessageView = serde_json::from_str(&field("data:").unwrap()).unwrap();
                return (field("id:").unwrap(), data);
            }
            continue;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(20), response.chunk())
            .await
            .expect("an SMS event within 20 s")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

async fn open_stream(
    server: &TestServer,
    who: &TokenPair,
    last_event_id: Option<&str>,
) -> reqwest::Response {
    let mut request = server
        .client
        .get(format!("{}/v1/sms/stream", server.base))
        .bearer_auth(&who.access_token);
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response
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
