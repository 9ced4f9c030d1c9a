//! A team's shared token in the quick-search palette: the global shortcut (real X
//! key presses), a search, Enter, and the server's code is on the clipboard — and
//! in the team's log as a palette view and copy.
//!
//! One test in its own binary: a global shortcut belongs to one app on the display.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use kaito_e2e::team_server::{
    MEMBER_PASSWORD, SHARED, sign_in_as_mia, team_with_shared_token, wait_for_audit,
    wait_for_clipboard,
};
use kaito_e2e::{AppSession, open_palette_and_type, plausible_codes, xdotool};

#[tokio::test]
async fn a_shared_code_is_copied_from_the_palette_and_audited_as_such() {
    let team = team_with_shared_token().await;
    let session = AppSession::start(&[]).await;
    sign_in_as_mia(&session, &team, MEMBER_PASSWORD).await;
    session
        .wait_content("[data-testid=team-status]", |text| text.contains("Acme"))
        .await;

    open_palette_and_type("acme").await;
    xdotool(&["key", "Return"]);
    wait_for_clipboard(|text| plausible_codes(SHARED).contains(&text.to_owned())).await;
    wait_for_audit(&team, "the palette copy", |event| {
        event.kind == "code.copied"
            && event.subject.as_deref() == Some(team.token_id.as_str())
            && event.details["details"]["surface"] == "palette"
    })
    .await;
    // The palette showed the code before it was copied: a view, from the palette.
    wait_for_audit(&team, "the palette view", |event| {
        event.kind == "code.viewed" && event.details["details"]["surface"] == "palette"
    })
    .await;
    session.finish().await;
}
