//! Image files and clipboard images: PNG, JPEG, transparency, screenshots, partial
//! exports, and hostile or oversized bytes.

use std::io::Cursor;

use kaito_core::qr::{
    Effort, Frame, MAX_IMAGE_BYTES, QrError, ScanOutcome, ScanSession, ScanStep, decode_image_bytes,
};
use kaito_core::uri;

use crate::qr_corpus::{
    FULL_HD, HD, Look, NOT_TWO_FACTOR, Rng, migration_export, otpauth_uri, render,
};
use crate::{clean_picture, jpeg_bytes, png_bytes, progress, token_of};

#[test]
fn png_and_jpeg_files_decode_to_a_token() {
    let mut rng = Rng::new(14);
    let uri = otpauth_uri(&mut rng);
    let expected = uri::parse_full(&uri).unwrap();
    let picture = clean_picture(14, FULL_HD, &uri);
    assert_eq!(
        token_of(decode_image_bytes(&png_bytes(&picture)).unwrap()),
        expected
    );
    assert_eq!(
        token_of(decode_image_bytes(&jpeg_bytes(&picture, 80)).unwrap()),
        expected
    );
}

#[test]
fn a_transparent_png_with_a_bare_code_decodes() {
    // As QR generators export them: black modules on a transparent background, no
    // quiet zone of its own, so black RGB values hide behind alpha 0.
    let uri = otpauth_uri(&mut Rng::new(15));
    let code = qrcode::QrCode::new(&uri).unwrap();
    let (modules, scale) = (code.width(), 6);
    let colors = code.to_colors();
    let side = u32::try_from(modules * scale).unwrap();
    let image = image::RgbaImage::from_fn(side, side, |x, y| {
        let (u, v) = (x as usize / scale, y as usize / scale);
        let alpha = if colors[v * modules + u] == qrcode::Color::Dark {
            255
        } else {
            0
        };
        image::Rgba([0, 0, 0, alpha])
    });
    let mut png = Cursor::new(Vec::new());
    image.write_to(&mut png, image::ImageFormat::Png).unwrap();
    assert_eq!(
        token_of(decode_image_bytes(png.get_ref()).unwrap()),
        uri::parse_full(&uri).unwrap()
    );
}

#[test]
fn a_4k_screenshot_with_a_small_code_decodes() {
    // Screen capture of a settings page: 2 px modules on a 3840×2160 screen are
    // 1 px at the 1920×1080 level the live mode stops at; stills try every level.
    let uri = otpauth_uri(&mut Rng::new(16));
    let mut look = Look::clean(2.0);
    look.noise_sigma = 1.0;
    let picture = render(&mut Rng::new(16), (3840, 2160), Some(&uri), &look);
    assert_eq!(
        token_of(decode_image_bytes(&png_bytes(&picture)).unwrap()),
        uri::parse_full(&uri).unwrap()
    );
}

#[test]
fn one_code_of_an_export_gives_a_partial_export() {
    let (tokens, batches) = migration_export(18, 25);
    let picture = clean_picture(18, HD, &batches[1]);
    let ScanOutcome::Migration(scan) = decode_image_bytes(&png_bytes(&picture)).unwrap() else {
        panic!("expected an export");
    };
    assert_eq!(scan.progress, progress(1, 3));
    let scanned: Vec<_> = scan.entries.into_iter().map(Result::unwrap).collect();
    assert_eq!(scanned, tokens[10..20]);

    // The app feeds the other pictures to a still-image session to finish it.
    let mut session = ScanSession::with_effort(Effort::Still);
    for (index, batch) in batches.iter().enumerate() {
        let frame = Frame::from_image_bytes(&png_bytes(&clean_picture(19, HD, batch))).unwrap();
        let step = session.feed(&frame).unwrap();
        assert_eq!(matches!(step, ScanStep::Done(_)), index == 2, "{step:?}");
    }
}

#[test]
fn images_without_a_2fa_code_give_clear_errors() {
    let blank = render(&mut Rng::new(20), HD, None, &Look::clean(4.0));
    assert_eq!(
        decode_image_bytes(&png_bytes(&blank)).unwrap_err(),
        QrError::NoQrCode
    );
    let foreign = clean_picture(20, HD, NOT_TWO_FACTOR);
    let error = decode_image_bytes(&jpeg_bytes(&foreign, 90)).unwrap_err();
    assert_eq!(error.to_string(), "This QR code is not a 2FA code");
}

#[test]
fn garbage_and_truncated_image_bytes_never_panic() {
    let mut rng = Rng::new(0xBAD);
    let png = png_bytes(&clean_picture(21, (320, 240), "not used"));
    let jpeg = jpeg_bytes(&clean_picture(22, (320, 240), "not used"), 85);

    let mut inputs: Vec<Vec<u8>> =
        vec![Vec::new(), b"\x89PNG\r\n\x1a\n".to_vec(), vec![0xFF, 0xD8]];
    for _ in 0..40 {
        let len = rng.below(4096);
        inputs.push((0..len).map(|_| rng.next_u64().to_le_bytes()[0]).collect());
    }
    for source in [&png, &jpeg] {
        for _ in 0..25 {
            // Truncated copies, and copies with a few bytes flipped past the header.
            inputs.push(source[..rng.below(source.len())].to_vec());
            let mut flipped = source.clone();
            for _ in 0..=rng.below(8) {
                let at = 16 + rng.below(flipped.len() - 16);
                flipped[at] ^= 1 << rng.below(8);
            }
            inputs.push(flipped);
        }
    }
    for bytes in &inputs {
        match decode_image_bytes(bytes) {
            Err(QrError::ImageUnreadable { detail }) => assert!(!detail.is_empty()),
            Err(QrError::NoQrCode | QrError::NotTwoFactor) => {}
            other => panic!("unexpected {other:?} for {} bytes", bytes.len()),
        }
    }
    let error = decode_image_bytes(b"GIF89a not supported").unwrap_err();
    assert_eq!(error.code(), "qr.image_unreadable");
}

#[test]
fn oversized_images_are_refused_before_decoding() {
    let error = decode_image_bytes(&vec![0; MAX_IMAGE_BYTES + 1]).unwrap_err();
    assert_eq!(
        error,
        QrError::ImageTooLarge {
            size: MAX_IMAGE_BYTES + 1,
            limit: MAX_IMAGE_BYTES
        }
    );
    assert_eq!(error.code(), "qr.image_too_large");

    // A tiny PNG whose header claims 100,000 × 100,000 pixels (a decompression bomb).
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    let error = decode_image_bytes(&png).unwrap_err();
    assert_eq!(error.code(), "qr.image_unreadable", "{error:?}");
    assert!(
        error.to_string().contains("limit"),
        "refused by size: {error}"
    );
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
