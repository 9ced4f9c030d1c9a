//! The first real window: empty state, a Rust command answering the UI, a screenshot.

use kaito_e2e::AppSession;

#[tokio::test]
async fn main_window_shows_empty_state_and_app_info_from_rust() {
    let session = AppSession::start(&[]).await;

    let title = session.client.title().await.expect("window title");
    assert_eq!(title, "Kaito");

    let empty = session.text_of("[data-testid=empty-state]").await;
    assert!(
        empty.contains("No tokens yet — add one"),
        "empty state said {empty:?}"
    );

    // The footer is filled by the `app_info` command: it proves the UI reached Rust,
    // and that the app honoured the data directory the test gave it.
    let expected_dir = session.data_dir.path().display().to_string();
    let about = session
        .wait_for_text("[data-testid=app-info]", |text| {
            text.contains(&expected_dir)
        })
        .await;
    assert!(
        about.contains(&format!("v{}", env!("CARGO_PKG_VERSION"))),
        "about line said {about:?}"
    );

    // The bundled logo is served from inside the binary and actually decodes.
    let logo_width = session
        .eval("document.querySelector('.brand img').naturalWidth")
        .await;
    assert!(
        logo_width.as_u64().is_some_and(|width| width > 0),
        "the header logo did not load: {logo_width}"
    );

    session.screenshot("main-window-empty").await;

    session.finish().await;
}
