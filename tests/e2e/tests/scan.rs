//! Adding by QR code in the real app: from an image file, from a clipboard image, a
//! Google Authenticator export spread over two codes, and a QR code that is not a 2FA
//! code. The images are drawn here like a setup page's QR code (white quiet zone,
//! 6 px modules) and read back by the app's decoder.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kaito_core::{migration, uri};
use kaito_e2e::AppSession;
use qrcode::{Color, QrCode};

const GITLAB_URI: &str = "otpauth://totp/GitLab:dana%40example.com?secret=MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK&issuer=GitLab";
const CLIP_URI: &str =
    "otpauth://totp/Clipped:erin?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Clipped";

/// Writes `text` as a QR code PNG: 6 px modules, 4-module white border.
fn qr_png(dir: &Path, name: &str, text: &str) -> PathBuf {
    let code = QrCode::new(text.as_bytes()).unwrap();
    let modules = code.width();
    let colors = code.to_colors();
    let (scale, border) = (6, 4);
    let side = (modules + 2 * border) * scale;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (mx, my) = (index % modules + border, index / modules + border);
            for y in my * scale..(my + 1) * scale {
                pixels[y * side + mx * scale..y * side + (mx + 1) * scale].fill(0);
            }
        }
    }
    let path = dir.join(name);
    let file = std::fs::File::create(&path).unwrap();
    let side = u32::try_from(side).unwrap();
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(&pixels)
        .unwrap();
    path
}

#[tokio::test]
async fn qr_codes_from_files_clipboard_and_a_two_part_export() {
    let dir = tempfile::tempdir().unwrap();
    let session = AppSession::start(&[]).await;

    // A web link's QR code is refused with a plain reason.
    let web = qr_png(dir.path(), "web.png", "https://example.com/welcome");
    session.click("[data-testid=add-token]").await;
    session.click("[data-testid=mode-scan]").await;
    session.choose_file("[data-testid=scan-file]", &web).await;
    let error = session
        .wait_content("[data-testid=scan-error]", |t| !t.is_empty())
        .await;
    assert_eq!(error, "This QR code is not a 2FA code");

    // A setup page's QR code goes straight to the first-code check.
    session
        .choose_file(
            "[data-testid=scan-file]",
            &qr_png(dir.path(), "gitlab.png", GITLAB_URI),
        )
        .await;
    session.verify_and_save(GITLAB_URI).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while session.issuers().await != ["GitLab"] {
        assert!(
            Instant::now() < deadline,
            "list: {:?}",
            session.issuers().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A screenshot on the clipboard.
    let clip = qr_png(dir.path(), "clip.png", CLIP_URI);
    let status = std::process::Command::new("xclip")
        .args(["-selection", "clipboard", "-t", "image/png", "-i"])
        .arg(&clip)
        .status()
        .expect("xclip is installed (make test installs it)");
    assert!(status.success());
    session.click("[data-testid=add-token]").await;
    session.click("[data-testid=mode-scan]").await;
    session.click("[data-testid=scan-clipboard]").await;
    session.verify_and_save(CLIP_URI).await;

    // A Google export in two codes: progress after the first, a preview after both.
    let tokens: Vec<_> = [
        "otpauth://totp/One:1?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=One",
        "otpauth://totp/Two:2?secret=KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU&issuer=Two",
        "otpauth://totp/Three:3?secret=ONSWG4TFOQYTEMZUONSWG4TFOQYTEMZU&issuer=Three",
    ]
    .iter()
    .map(|u| uri::parse(u).unwrap())
    .collect();
    let export = migration::encode_batches(&tokens, 2, 4242);
    assert_eq!(export.uris.len(), 2);
    let first = qr_png(dir.path(), "export-1.png", &export.uris[0]);
    let second = qr_png(dir.path(), "export-2.png", &export.uris[1]);
    session.click("[data-testid=add-token]").await;
    session.click("[data-testid=mode-scan]").await;
    session.choose_file("[data-testid=scan-file]", &first).await;
    let progress = session
        .wait_content("[data-testid=scan-progress]", |t| !t.is_empty())
        .await;
    assert_eq!(progress, "1 of 2 scanned — now add code 2.");
    session.screenshot("scan-progress").await;
    session
        .choose_file("[data-testid=scan-file]", &second)
        .await;
    let summary = session
        .wait_content("[data-testid=import-summary]", |t| !t.is_empty())
        .await;
    assert_eq!(summary, "Google Authenticator export (QR): 3 tokens.");
    session.click("[data-testid=import-commit]").await;
    session
        .wait_content("[data-testid=toast]", |t| t == "Imported 3 tokens")
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while session.issuers().await.len() != 5 {
        assert!(
            Instant::now() < deadline,
            "list: {:?}",
            session.issuers().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session.finish().await;
}
