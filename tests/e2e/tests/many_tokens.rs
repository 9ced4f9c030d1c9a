//! A thousand tokens: imported in one go, the list renders only what is on screen,
//! scrolls to the end, finds any token by search and reaches the last one by keyboard.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use std::fmt::Write as _;

use fantoccini::Locator;
use fantoccini::key::Key;
use kaito_e2e::AppSession;

const COUNT: usize = 1000;

#[tokio::test]
async fn a_thousand_tokens_stay_light_and_reachable() {
    let mut list = String::new();
    for i in 0..COUNT {
        // Distinct 160-bit secrets: base32 of "kaito-e2e-token-NNNN" padded to 20 bytes.
        let secret = data_encoding_base32(format!("kaito-e2e-token-{i:04}").as_bytes());
        writeln!(
            list,
            "otpauth://totp/Service{i:04}:user{i}?secret={secret}&issuer=Service{i:04}"
        )
        .unwrap();
    }
    let file = tempfile::Builder::new().suffix(".txt").tempfile().unwrap();
    std::fs::write(file.path(), list).unwrap();

    let session = AppSession::start(&[]).await;
    session.click("[data-testid=add-token]").await;
    session.click("[data-testid=mode-file]").await;
    session
        .choose_file("[data-testid=import-file]", file.path())
        .await;
    session.click("[data-testid=import-commit]").await;
    session
        .wait_js(
            "document.querySelector('[data-testid=token-list]')?.dataset.total === '1000'",
            "all 1000 tokens listed",
        )
        .await;
    let rendered = session
        .eval("document.querySelectorAll('[data-testid=token]').length")
        .await;
    assert!(
        rendered.as_u64().unwrap() < 60,
        "{rendered} rows rendered for 1000 tokens"
    );

    // Scrolling to the bottom renders the last rows.
    session
        .eval("(document.querySelector('main.tokens').scrollTop = 1e9, true)")
        .await;
    session.wait_js("Array.from(document.querySelectorAll('[data-testid=token-issuer]')).some((e) => e.textContent.trim() === 'Service0999')",
        "the last token after scrolling",
    )
    .await;
    session.screenshot("many-tokens-bottom").await;

    // Keyboard: from the top, End of the list is reachable with arrows (and stays focused).
    session
        .eval("(document.querySelector('main.tokens').scrollTop = 0, true)")
        .await;
    let search = session
        .client
        .find(Locator::Css("[data-testid=search]"))
        .await
        .unwrap();
    search.send_keys("Service09").await.unwrap();
    session
        .wait_js(
            "document.querySelector('[data-testid=token-list]')?.dataset.total === '100'",
            "search narrowing to 100",
        )
        .await;
    let mut keys = String::new();
    for _ in 0..100 {
        keys.push(char::from(Key::Down));
    }
    search.send_keys(&keys).await.unwrap();
    session.wait_js("document.activeElement?.closest('[data-token-id]')?.querySelector('[data-testid=token-issuer]')?.textContent.trim() === 'Service0999'",
        "keyboard focus on the last match",
    )
    .await;
    session.finish().await;
}

/// RFC 4648 base32 without padding (the test's own, independent of Kaito's).
fn data_encoding_base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}
