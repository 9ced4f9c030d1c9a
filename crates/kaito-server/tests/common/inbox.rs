//! A team's shared SMS inbox as the tests set it up, and Twilio's side of it:
//! signed webhook calls and a member reading the live stream.

use std::time::Duration;

use kaito_api::{SmsMessageView, TokenPair};
use kaito_server::sms::twilio_signature;
use serde_json::json;

use super::{MEMBER_PASSWORD, TWILIO_AUTH_TOKEN, TWILIO_URL, TestServer};

pub const NUMBER: &str = "+15550100123";

pub fn twilio_form(message_id: &str, to: &str, body: &str) -> Vec<(String, String)> {
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
pub async fn post_webhook(
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

pub async fn signed(server: &TestServer, message_id: &str, body: &str) -> (u16, String, String) {
    let form = twilio_form(message_id, NUMBER, body);
    post_webhook(
        server,
        &form,
        &twilio_signature(TWILIO_AUTH_TOKEN, TWILIO_URL, &form),
    )
    .await
}

pub struct Inbox {
    pub owner: TokenPair,
    pub reader: TokenPair,
    /// The reader's user id (Mia, who reads through the Ops group).
    pub reader_id: String,
    pub outsider: TokenPair,
}

pub async fn inbox(server: &TestServer) -> Inbox {
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
        reader_id: ids[0].clone(),
        outsider: server
            .login("sam@example.com", MEMBER_PASSWORD)
            .await
            .parse(),
    }
}

pub async fn messages(server: &TestServer, who: &TokenPair) -> Vec<SmsMessageView> {
    server
        .get("/v1/sms/messages", Some(&who.access_token))
        .await
        .parse()
}

/// Reads server-sent events from `response` until one `sms` event arrives.
pub async fn next_sms(
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

pub async fn open_stream(
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
