//! Several replicas on one database: appenders on separate connection pools (as
//! separate server processes would have) race on one team's audit chain and the
//! chain stays gapless and intact. On SQLite the same race runs through one file.
//! And two `kaito-server` processes on one PostgreSQL: an SMS that reaches one
//! is pushed live to a member streaming from the other.

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
        common::OWNER_PASSWORD,
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
    let first = common::server_process("replica A", store.clone(), &url);
    let second = common::server_process("replica B", store, &url);
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
}
