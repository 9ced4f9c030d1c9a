//! Several replicas on one database: appenders on separate connection pools (as
//! separate server processes would have) race on one team's audit chain and the
//! chain stays gapless and intact. On SQLite the same race runs through one file.
//! And two `kaito-server` processes on one PostgreSQL: an SMS that reaches one
//! is pushed live to a member streaming from the other, and neither logs a code or
//! a seed, even at debug level.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use kaito_server::accounts::{Caller, create_team_with_owner};
use kaito_server::http::now_ms;
use kaito_server::ids::SessionId;
use kaito_server::store::Store;

async fn race(first: Store, second: Store, label: &str) {
    let (team_id, user_id) = create_team_with_owner(
        &first,
        "Acme",
        "olivia@example.com",
        "Olivia",
        &common::hashed(common::OWNER_PASSWORD).await,
        now_ms(),
    )
    .await
    .unwrap();
    let owner = Caller {
        user_id,
        team_id: team_id.clone(),
        role: kaito_api::Role::Owner,
        session_id: SessionId::from_stored("sess_race".to_owned()),
    };
    let mut tasks = Vec::new();
    for (replica, store) in [first.clone(), second.clone()].into_iter().enumerate() {
        for worker in 0..4 {
            let (store, owner) = (store.clone(), owner.clone());
            tasks.push(tokio::spawn(async move {
                for round in 0..10 {
                    kaito_server::shared::create_group(
                        &store,
                        &owner,
                        &format!("r{replica} w{worker} #{round}"),
                        now_ms(),
                    )
                    .await
                    .unwrap();
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    for store in [&first, &second] {
        let report = kaito_server::audit::verify(store, &team_id).await.unwrap();
        assert!(report.intact, "{label}: {report:?}");
        assert_eq!(report.events, 1 + 80, "{label}: the owner, then 80 groups");
    }
}

#[tokio::test]
async fn two_replicas_append_to_one_chain_without_breaking_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open_data_dir(dir.path()).await.unwrap();
    let second = Store::open_data_dir(dir.path()).await.unwrap();
    race(first, second, "sqlite").await;

    if let Ok(url) = std::env::var("KAITO_TEST_POSTGRES_URL") {
        let database = common::fresh_postgres_url(&url).await;
        let first = Store::connect(&database).await.unwrap();
        let second = Store::connect(&database).await.unwrap();
        race(first, second, "postgres").await;
    } else {
        assert!(
            std::env::var_os("KAITO_TEST_REQUIRE_POSTGRES").is_none(),
            "KAITO_TEST_POSTGRES_URL is not set: run the tests through `make test`"
        );
    }
}

#[tokio::test]
async fn an_sms_posted_to_one_server_process_reaches_a_stream_on_another() {
    let Ok(admin_url) = std::env::var("KAITO_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("KAITO_TEST_REQUIRE_POSTGRES").is_none(),
            "KAITO_TEST_POSTGRES_URL is not set: run the tests through `make test`"
        );
        return;
    };
    let url = common::fresh_postgres_url(&admin_url).await;
    let store = Store::connect(&url).await.unwrap();
    let logs = tempfile::tempdir().unwrap();
    let first = common::server_process(
        "replica A",
        store.clone(),
        &url,
        (&logs.path().join("a.log"), "text"),
    );
    let second = common::server_process(
        "replica B",
        store,
        &url,
        (&logs.path().join("b.log"), "json"),
    );
    let inbox = common::inbox::inbox(&first).await;

    let mut live = common::inbox::open_stream(&second, &inbox.reader, None).await;
    let mut buffer = String::new();
    let (status, _, _) =
        common::inbox::signed(&first, "SM900", "Your Contoso code is 771204").await;
    assert_eq!(status, 200);
    let (_, message) = common::inbox::next_sms(&mut live, &mut buffer).await;
    assert_eq!(message.code.as_deref(), Some("771204"));

    // And back the other way, to a stream on the first replica.
    let mut on_first =
        common::inbox::open_stream(&first, &inbox.reader, Some(&message.seq.to_string())).await;
    let mut buffer = String::new();
    common::inbox::signed(&second, "SM901", "Your Contoso code is 100200").await;
    let (_, message) = common::inbox::next_sms(&mut on_first, &mut buffer).await;
    assert_eq!(message.code.as_deref(), Some("100200"));

    // A shared seed and the codes it gives go through too.
    let owner = Some(inbox.owner.access_token.as_str());
    let token = first
        .post(
            "/v1/tokens",
            owner,
            &serde_json::json!({ "uri": SHARED_SEED_URI }),
        )
        .await;
    let token_id = token.body["id"].as_str().unwrap();
    let codes = second
        .get(&format!("/v1/tokens/{token_id}/codes"), owner)
        .await;
    let code = codes.body["current"].as_str().unwrap().to_owned();
    let seed = second
        .get(&format!("/v1/tokens/{token_id}/seed"), owner)
        .await;
    assert_eq!(seed.status, 200);

    // Debug-level logs of both replicas carry none of it.
    drop((first, second));
    for log in ["a.log", "b.log"] {
        let text = std::fs::read_to_string(logs.path().join(log)).unwrap();
        assert!(
            text.contains("serving"),
            "{log} is empty: the check would prove nothing"
        );
        // Each line's timestamp is dropped first: its digits could match a code by
        // chance. Replica B logs JSON, one object a line.
        let text: String = text
            .lines()
            .map(|line| {
                if log == "b.log" {
                    let mut object: serde_json::Value = serde_json::from_str(line)
                        .unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
                    assert!(object["level"].is_string(), "{line}");
                    object.as_object_mut().unwrap().remove("timestamp");
                    object.to_string()
                } else {
                    line.split_once(' ').map_or("", |(_, rest)| rest).to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        for phrase in ["Contoso code", SHARED_SEED] {
            assert!(!text.contains(phrase), "{log} contains {phrase}");
        }
        for number in ["771204", "100200", code.as_str()] {
            assert!(!has_number(&text, number), "{log} contains {number}");
        }
    }
}

/// Whether `digits` stands in `text` as a number of its own (not inside a longer one).
fn has_number(text: &str, digits: &str) -> bool {
    text.match_indices(digits).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + digits.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

const SHARED_SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const SHARED_SEED_URI: &str =
    "otpauth://totp/Acme:ops?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme";
