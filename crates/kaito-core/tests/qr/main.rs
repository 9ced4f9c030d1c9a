//! QR enrollment (feature `qr`): the varied synthetic corpus must decode at ≥ 95 %,
//! `ScanSession` driven by a synthetic frame source (single codes, a 3-code Google
//! export, non-2FA codes, empty frames), image files (PNG, JPEG, transparency,
//! screenshots) and hostile bytes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

#[path = "../common/qr_corpus.rs"]
mod qr_corpus;

mod decoding;
mod images;
mod live;
mod session;

use std::io::Cursor;

use kaito_core::migration::Progress;
use kaito_core::qr::ScanOutcome;
use kaito_core::uri;

use qr_corpus::{Look, Picture, Rng, render};

fn progress(scanned: u32, total: u32) -> Progress {
    Progress { scanned, total }
}

fn png_bytes(picture: &Picture) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image::RgbImage::from_raw(picture.width, picture.height, picture.rgb.clone())
        .unwrap()
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn jpeg_bytes(picture: &Picture, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode(
            &picture.rgb,
            picture.width,
            picture.height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

fn clean_picture(seed: u64, size: (u32, u32), payload: &str) -> Picture {
    render(&mut Rng::new(seed), size, Some(payload), &Look::clean(5.0))
}

fn token_of(outcome: ScanOutcome) -> uri::ParsedUri {
    match outcome {
        ScanOutcome::Token(parsed) => *parsed,
        ScanOutcome::Migration(scan) => {
            panic!("expected a token, got an export {:?}", scan.progress)
        }
    }
}
