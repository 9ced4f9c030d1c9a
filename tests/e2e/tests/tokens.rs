//! The token flows a user goes through in the real window: add by URI with the
//! first-code check, a live code that rolls over, copy to the clipboard, search,
//! delete and undo, and a clear error for a broken link.

// Test steps panic with a message on failure; that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use std::time::{Duration, Instant};

use fantoccini::Locator;
use kaito_e2e::{AppSession, clipboard_text as clipboard, digits, plausible_codes};

// A 160-bit test secret ("12345678901234567890", the RFC 4226 key).
const SECRET_B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const EXAMPLE_URI: &str = "otpauth://totp/Example:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example&period=5";
const GITHUB_URI: &str =
    "otpauth://totp/GitHub:bob?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=GitHub";

async fn add_by_uri(session: &AppSession, uri_text: &str, screenshot: Option<&str>) {
    session.click("[data-testid=add-token]").await;
    session.type_into("[data-testid=add-uri]", uri_text).await;
    session.click("[data-testid=add-continue]").await;
    if let Some(name) = screenshot {
        session.text_of("[data-testid=verify-code]").await;
        session.screenshot(name).await;
    }
    session.verify_and_save(uri_text).await;
}

#[tokio::test]
async fn add_verify_copy_search_delete_and_undo() {
    let session = AppSession::start(&[]).await;
    session.text_of("[data-testid=empty-state]").await;

    add_by_uri(&session, EXAMPLE_URI, Some("add-dialog-verify")).await;
    let row_code = "[data-token-id] [data-testid=token-code]";
    let first = digits(&session.text_of(row_code).await);
    assert!(
        plausible_codes(EXAMPLE_URI).contains(&first),
        "list showed {first}"
    );
    session.wait_issuers(&["Example"]).await;

    // Period 5 s: the code must roll over by itself, to the right new value.
    let deadline = Instant::now() + Duration::from_secs(12);
    let rolled = loop {
        let shown = digits(&session.text_of(row_code).await);
        if shown != first {
            break shown;
        }
        assert!(
            Instant::now() < deadline,
            "the code never changed at the period boundary"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        plausible_codes(EXAMPLE_URI).contains(&rolled),
        "rolled over to {rolled}, not a valid code"
    );

    // Click copies the code computed at click time.
    session.click("[data-token-id] button.copy").await;
    let toast = session
        .wait_for_text("[data-testid=toast]", |text| text.starts_with("Copied"))
        .await;
    let copied = clipboard();
    assert!(
        plausible_codes(EXAMPLE_URI).contains(&copied),
        "clipboard held {copied:?}"
    );
    assert!(
        toast.contains(&copied[..3]),
        "toast {toast:?} does not show the copied code"
    );

    add_by_uri(&session, GITHUB_URI, None).await;
    session.wait_issuers(&["Example", "GitHub"]).await;
    session.screenshot("main-window-tokens").await;

    session.type_into("[data-testid=search]", "git").await;
    session.wait_issuers(&["GitHub"]).await;
    session
        .type_into("[data-testid=search]", "nothing-like-this")
        .await;
    session
        .wait_for_text("[data-testid=no-matches]", |text| {
            text.contains("nothing-like-this")
        })
        .await;
    session.client.execute("document.querySelector('[data-testid=search]').value='';document.querySelector('[data-testid=search]').dispatchEvent(new Event('input'));", vec![]).await.unwrap();

    // Delete, then undo from the toast.
    session.click("button[aria-label='Delete Example']").await;
    session
        .wait_for_text("[data-testid=toast]", |text| {
            text.contains("Deleted Example")
        })
        .await;
    session.wait_issuers(&["GitHub"]).await;
    session.click("[data-testid=undo]").await;
    session.wait_issuers(&["Example", "GitHub"]).await;

    // The seed is in the vault file only sealed.
    for entry in std::fs::read_dir(session.data_dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for needle in [SECRET_B32.as_bytes(), b"12345678901234567890"] {
            assert!(
                !bytes.windows(needle.len()).any(|window| window == needle),
                "a seed is on disk in clear"
            );
        }
    }

    session.finish().await;
}

#[tokio::test]
async fn a_broken_link_gets_a_specific_error_and_adds_nothing() {
    let session = AppSession::start(&[]).await;
    session.text_of("[data-testid=empty-state]").await;
    session.click("[data-testid=add-token]").await;
    session
        .type_into(
            "[data-testid=add-uri]",
            "otpauth://totp/Broken?secret=NOT-BASE32-!!&issuer=Broken",
        )
        .await;
    session.click("[data-testid=add-continue]").await;
    let error = session.text_of("[data-testid=add-error]").await;
    assert!(error.contains("base32"), "error was {error:?}");
    assert!(
        !error.contains("NOT-BASE32"),
        "the error repeats the secret: {error:?}"
    );
    session
        .client
        .find(Locator::Css("[data-testid=add-uri]"))
        .await
        .unwrap()
        .send_keys("\u{e00c}")
        .await
        .unwrap(); // Escape
    session.text_of("[data-testid=empty-state]").await;
    session.finish().await;
}
