//! QR codes for enrollment: webcam and screen frames, image files and clipboard
//! images. Pure like the rest of the crate: the app turns a camera, the screen or a
//! file into [`Frame`]s (a [`FrameSource`] for streams); tokens come out.
//!
//! Per frame: grayscale once; while the longer side exceeds [`MAX_DECODE_SIDE`],
//! halve it by 2×2 box averaging (measured faster and better than `image::resize`,
//! and it also averages sensor noise away); then rxing's QR reader, which returns every
//! code in the frame with its corners. A few fallback passes follow when nothing is
//! found (see [`decode_frame`]): [`Effort::Video`] keeps them within a live camera's
//! frame budget, [`Effort::Still`] (files, screenshots) tries everything. rqrr was
//! measured as well and neither decoded more nor ran faster (`BENCHMARKS.md`).
//!
//! Payloads are classified: `otpauth://` goes through [`crate::uri`],
//! `otpauth-migration://` through [`crate::migration`] (several codes per export,
//! gathered by [`ScanSession`]), anything else is [`QrError::NotTwoFactor`].
//!
//! Decoded payloads hold seeds: nothing here logs them, and the `Debug` output of
//! every type that carries one leaves the payload out.

mod decode;
mod frame;
mod session;

use crate::migration::{CollectError, Progress};
use crate::uri::UriError;

pub use decode::{Detection, Effort, MAX_DECODE_SIDE, Outline, Point, decode_frame};
pub use frame::{Frame, MAX_IMAGE_BYTES, PixelFormat, rgb_to_luma};
pub use session::{
    FrameSource, MigrationScan, Payload, ScanOutcome, ScanSession, ScanStep, classify,
    decode_image_bytes,
};

/// Why a frame or image gave no token. Messages are shown to people as they are;
/// [`QrError::code`] gives the stable code for the UI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("No QR code found: make sure the whole code is visible, sharp and well lit")]
    NoQrCode,
    #[error("This QR code is not a 2FA code")]
    NotTwoFactor,
    #[error("This 2FA QR code cannot be used: {0}")]
    InvalidOtpauth(#[from] UriError),
    #[error("This Google Authenticator export QR code cannot be used: {0}")]
    Migration(#[from] CollectError),
    #[error(
        "This is a single 2FA code, but a Google Authenticator export is being scanned ({progress}): finish the export first, or start over"
    )]
    ExportInProgress { progress: Progress },
    #[error("The file is too large to be a QR code image ({size} bytes; the limit is {limit})")]
    ImageTooLarge { size: usize, limit: usize },
    #[error("This file could not be read as a PNG or JPEG image: {detail}")]
    ImageUnreadable { detail: String },
    #[error(
        "The frame's pixel data does not match its size: {len} bytes for {width}×{height} {format}"
    )]
    InvalidFrame {
        width: u32,
        height: u32,
        len: usize,
        format: PixelFormat,
    },
    #[error("Could not get a picture from the camera or screen: {0}")]
    Source(#[from] FrameSourceError),
}

impl QrError {
    /// Stable machine-readable code for the UI's `{code, message}` errors.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            QrError::NoQrCode => "qr.no_code",
            QrError::NotTwoFactor => "qr.not_two_factor",
            QrError::InvalidOtpauth(_) => "qr.invalid_otpauth",
            QrError::Migration(_) => "qr.invalid_export",
            QrError::ExportInProgress { .. } => "qr.export_in_progress",
            QrError::ImageTooLarge { .. } => "qr.image_too_large",
            QrError::ImageUnreadable { .. } => "qr.image_unreadable",
            QrError::InvalidFrame { .. } => "qr.invalid_frame",
            QrError::Source(_) => "qr.source_failed",
        }
    }
}

/// A [`FrameSource`] could not deliver a frame (camera unplugged, permission denied,
/// screen capture refused…). The message is the source's own, for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FrameSourceError {
    pub message: String,
}

impl FrameSourceError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}
