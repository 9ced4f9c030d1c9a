//! "Find a QR code on my screens": a code shown by another program (here, the X root
//! window's background, set with xsetroot) is found although Kaito's window covers
//! the middle of the screen; with no code visible, the user is told so.
//!
//! Alone in its binary: it changes what the whole display shows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use std::fmt::Write as _;
use std::process::Command;

use kaito_e2e::AppSession;
use qrcode::{Color, QrCode};

const URI: &str = "otpauth://totp/Onscreen:erin%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Onscreen";
/// Pixels per QR module, and white modules around the code (the standard four).
const SCALE: usize = 6;
const QUIET: usize = 4;

/// The QR code of `text` as an X bitmap (1 = dark): rows padded to bytes, the
/// leftmost pixel in each byte's lowest bit.
fn qr_xbm(text: &str) -> String {
    let code = QrCode::new(text.as_bytes()).unwrap();
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let dark = |x: usize, y: usize| {
        let (mx, my) = (x / SCALE, y / SCALE);
        (QUIET..QUIET + modules).contains(&mx)
            && (QUIET..QUIET + modules).contains(&my)
            && colors[(my - QUIET) * modules + (mx - QUIET)] == Color::Dark
    };
    let mut xbm = format!(
        "#define qr_width {side}\n#define qr_height {side}\nstatic unsigned char qr_bits[] = {{\n"
    );
    for y in 0..side {
        for byte_x in 0..side.div_ceil(8) {
            let mut byte = 0u8;
            for bit in 0..8 {
                let x = byte_x * 8 + bit;
                if x < side && dark(x, y) {
                    byte |= 1 << bit;
                }
            }
            write!(xbm, "0x{byte:02x},").unwrap();
        }
        xbm.push('\n');
    }
    xbm.push_str("};\n");
    xbm
}

fn xsetroot(args: &[&str]) {
    let status = Command::new("xsetroot")
        .args(args)
        .status()
        .expect("xsetroot is installed (make test installs x11-xserver-utils)");
    assert!(status.success(), "xsetroot {args:?} failed");
}

#[tokio::test]
async fn a_code_anywhere_on_screen_is_found() {
    let session = AppSession::start(&[]).await;
    session.text_of("[data-testid=empty-state]").await;
    xsetroot(&["-solid", "grey40"]);

    session.click("[data-testid=add-token]").await;
    session.click("[data-testid=mode-scan]").await;
    session.click("[data-testid=scan-screen]").await;
    let error = session
        .wait_content("[data-testid=scan-error]", |t| !t.is_empty())
        .await;
    assert!(
        error.contains("No QR code found on your screens"),
        "{error}"
    );

    // The code tiles the desktop background: copies show around Kaito's window.
    let bitmap = session.data_dir.path().join("qr.xbm");
    std::fs::write(&bitmap, qr_xbm(URI)).unwrap();
    xsetroot(&[
        "-bitmap",
        bitmap.to_str().unwrap(),
        "-fg",
        "black",
        "-bg",
        "white",
    ]);
    session.click("[data-testid=scan-screen]").await;
    session.verify_and_save(URI).await;
    session.wait_issuers(&["Onscreen"]).await;
    xsetroot(&["-def"]);
    session.finish().await;
}
