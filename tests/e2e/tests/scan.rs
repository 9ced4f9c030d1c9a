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

/// No camera exists on the test machine: the camera scanner says so plainly, and the
/// other ways to scan stay available.
#[tokio::test]
async fn without_a_camera_the_scanner_says_so() {
    let session = AppSession::start(&[]).await;
    session.text_of("[data-testid=empty-state]").await;
    session.click("[data-testid=add-token]").await;
    session.click("[data-testid=mode-scan]").await;
    session.click("[data-testid=scan-camera]").await;
    let error = session
        .wait_content("[data-testid=camera-error]", |t| !t.is_empty())
        .await;
    assert!(error.starts_with("No camera found"), "{error}");
    session.click("[data-testid=camera-close]").await;
    session.text_of("[data-testid=scan-file]").await;
    session.finish().await;
}

/// Makes `image` the test camera's one frame. The rename replaces the old frame in one
/// step: the camera never reads half a file nor finds the folder empty (removing the
/// old frame first left a moment where it did, and the camera stopped on it).
fn show_to_camera(folder: &Path, image: &Path) {
    let staged = folder.with_extension("staged.png");
    std::fs::copy(image, &staged).unwrap();
    std::fs::rename(&staged, folder.join("frame.png")).unwrap();
}

/// The camera scanner in the real window, fed by the debug build's image-folder
/// camera: a live preview with the code outlined, a non-2FA code named as such while
/// scanning goes on, a Google export's parts shown one after the other with progress,
/// and a setup code going straight to the first-code check.
#[tokio::test]
async fn the_camera_previews_outlines_and_reads_codes_as_they_come_into_view() {
    let images = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().join("camera");
    std::fs::create_dir(&folder).unwrap();
    let web = qr_png(images.path(), "web.png", "https://example.com/welcome");
    show_to_camera(&folder, &web);
    let session = AppSession::start(&[("KAITO_TEST_CAMERA", folder.to_str().unwrap())]).await;
    session.text_of("[data-testid=empty-state]").await;
    session.click("[data-testid=add-token]").await;
    session.click("[data-testid=mode-scan]").await;
    session.click("[data-testid=scan-camera]").await;

    // A web link's code: outlined in the preview, named, and the camera keeps going.
    let notice = session
        .wait_content("[data-testid=camera-notice]", |t| !t.is_empty())
        .await;
    assert_eq!(notice, "This QR code is not a 2FA code");
    session
        .wait_js(
            "document.querySelector('[data-testid=camera-scan] img')?.src.startsWith('data:image/jpeg;base64,') \
             && document.querySelectorAll('[data-testid=camera-scan] polygon').length === 1",
            "a preview with the code outlined",
        )
        .await;
    session.screenshot("camera-scan").await;

    // A Google export in two codes, shown one after the other.
    let tokens: Vec<_> = [
        "otpauth://totp/Cam1:1?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Cam1",
        "otpauth://totp/Cam2:2?secret=KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU&issuer=Cam2",
        "otpauth://totp/Cam3:3?secret=ONSWG4TFOQYTEMZUONSWG4TFOQYTEMZU&issuer=Cam3",
    ]
    .iter()
    .map(|u| uri::parse(u).unwrap())
    .collect();
    let export = migration::encode_batches(&tokens, 2, 77);
    let second = qr_png(images.path(), "export-2.png", &export.uris[1]);
    let first = qr_png(images.path(), "export-1.png", &export.uris[0]);
    show_to_camera(&folder, &second);
    let progress = session
        .wait_content("[data-testid=scan-progress]", |t| !t.is_empty())
        .await;
    assert_eq!(progress, "1 of 2 scanned — now add code 1.");
    show_to_camera(&folder, &first);
    let summary = session
        .wait_content("[data-testid=import-summary]", |t| !t.is_empty())
        .await;
    assert_eq!(summary, "Google Authenticator export (QR): 3 tokens.");
    session.click("[data-testid=import-commit]").await;
    session
        .wait_content("[data-testid=toast]", |t| t == "Imported 3 tokens")
        .await;

    // A setup page's code: straight to the first-code check, then in the list.
    show_to_camera(&folder, &qr_png(images.path(), "gitlab.png", GITLAB_URI));
    session.click("[data-testid=add-token]").await;
    session.click("[data-testid=mode-scan]").await;
    session.click("[data-testid=scan-camera]").await;
    session.verify_and_save(GITLAB_URI).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while session.issuers().await.len() != 4 {
        assert!(
            Instant::now() < deadline,
            "list: {:?}",
            session.issuers().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session.finish().await;
}
