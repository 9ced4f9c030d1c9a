//! Several replicas on one database: appenders on separate connection pools (as
//! separate server processes would have) race on one team's audit chain and the
//! chain stays gapless and intact. On SQLite the same race runs through one file.

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
