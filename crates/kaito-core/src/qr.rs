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

use std::collections::HashSet;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::multi::MultipleBarcodeReader;
use rxing::qrcode::cpp_port::QrReader;
use rxing::{BarcodeFormat, Binarizer, BinaryBitmap, DecodeHints, Luma8Source};
use zeroize::Zeroizing;

use crate::migration::{self, Added, CollectError, EntryError, MigrationCollector, Progress};
use crate::token::Token;
use crate::uri::{self, ParsedUri, UriError, strip_prefix_ignore_case};

/// Frames whose longer side exceeds this are halved (repeatedly) before decoding.
pub const MAX_DECODE_SIDE: u32 = 1280;
/// Largest image file [`decode_image_bytes`] reads: far above any screenshot or photo
/// of a QR code, far below what would strain memory.
pub const MAX_IMAGE_BYTES: usize = 64 << 20;
/// Largest image side accepted from a file; the decoder would also refuse to
/// allocate for a forged header claiming more.
const MAX_IMAGE_SIDE: u32 = 16_384;
/// Memory the image decoder may allocate for one picture.
const MAX_IMAGE_ALLOC: u64 = 512 << 20;

// ---------------------------------------------------------------------------------
// Errors

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

// ---------------------------------------------------------------------------------
// Frames

/// Layout of the pixel bytes handed to [`Frame::new`]: 8 bits per channel, rows
/// top to bottom without padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    Luma8,
    Rgb8,
    /// Straight (not premultiplied) alpha; transparent pixels count as white, the
    /// background a transparent QR image is meant to be shown on.
    Rgba8,
}

impl PixelFormat {
    #[must_use]
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Luma8 => 1,
            PixelFormat::Rgb8 => 3,
            PixelFormat::Rgba8 => 4,
        }
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PixelFormat::Luma8 => "luma8",
            PixelFormat::Rgb8 => "RGB8",
            PixelFormat::Rgba8 => "RGBA8",
        })
    }
}

/// One picture to scan, kept as 8-bit grayscale (converted once, on construction).
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    width: u32,
    height: u32,
    luma: Vec<u8>,
}

impl fmt::Debug for Frame {
    // The pixels may show a QR code holding a seed, and are megabytes anyway.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

impl Frame {
    /// Converts `pixels` in `format` to grayscale.
    pub fn new(
        width: u32,
        height: u32,
        format: PixelFormat,
        pixels: &[u8],
    ) -> Result<Self, QrError> {
        check_len(width, height, format, pixels.len())?;
        let luma = match format {
            PixelFormat::Luma8 => pixels.to_vec(),
            PixelFormat::Rgb8 => pixels
                .chunks_exact(3)
                .map(|p| rgb_to_luma(p[0], p[1], p[2]))
                .collect(),
            PixelFormat::Rgba8 => pixels
                .chunks_exact(4)
                .map(|p| over_white(rgb_to_luma(p[0], p[1], p[2]), p[3]))
                .collect(),
        };
        Ok(Self {
            width,
            height,
            luma,
        })
    }

    /// Takes a grayscale buffer as it is, without copying.
    pub fn from_luma8(width: u32, height: u32, luma: Vec<u8>) -> Result<Self, QrError> {
        check_len(width, height, PixelFormat::Luma8, luma.len())?;
        Ok(Self {
            width,
            height,
            luma,
        })
    }

    pub fn from_rgb8(width: u32, height: u32, pixels: &[u8]) -> Result<Self, QrError> {
        Self::new(width, height, PixelFormat::Rgb8, pixels)
    }

    pub fn from_rgba8(width: u32, height: u32, pixels: &[u8]) -> Result<Self, QrError> {
        Self::new(width, height, PixelFormat::Rgba8, pixels)
    }

    /// Decodes a PNG or JPEG file (or clipboard image bytes). Never panics on damaged
    /// or hostile input; oversized files and pictures are refused before decoding.
    pub fn from_image_bytes(bytes: &[u8]) -> Result<Self, QrError> {
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(QrError::ImageTooLarge {
                size: bytes.len(),
                limit: MAX_IMAGE_BYTES,
            });
        }
        let unreadable = |detail: String| QrError::ImageUnreadable { detail };
        let format = image::guess_format(bytes)
            .ok()
            .filter(|format| matches!(format, image::ImageFormat::Png | image::ImageFormat::Jpeg))
            .ok_or_else(|| unreadable("it is not a PNG or JPEG file".to_owned()))?;
        let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(MAX_IMAGE_SIDE);
        limits.max_image_height = Some(MAX_IMAGE_SIDE);
        limits.max_alloc = Some(MAX_IMAGE_ALLOC);
        reader.limits(limits);
        // The decoders are fuzzed, but a panic here would take the app's scan
        // command with it: treat one as a damaged file.
        let decoded = panic::catch_unwind(AssertUnwindSafe(|| reader.decode()))
            .map_err(|_| unreadable("the image data is damaged".to_owned()))?
            .map_err(|error| unreadable(error.to_string()))?;
        let (width, height) = (decoded.width(), decoded.height());
        if decoded.color().has_alpha() {
            Self::from_rgba8(width, height, decoded.to_rgba8().as_raw())
        } else if decoded.color().has_color() {
            Self::from_rgb8(width, height, decoded.to_rgb8().as_raw())
        } else {
            Self::from_luma8(width, height, decoded.to_luma8().into_raw())
        }
    }

    #[must_use]
    pub fn width(&self) -> u32 {
        self.width
    }

    #[must_use]
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Grayscale pixels, row by row.
    #[must_use]
    pub fn luma(&self) -> &[u8] {
        &self.luma
    }
}

fn check_len(width: u32, height: u32, format: PixelFormat, len: usize) -> Result<(), QrError> {
    let expected = usize::try_from(u64::from(width) * u64::from(height))
        .ok()
        .and_then(|pixels| pixels.checked_mul(format.bytes_per_pixel()));
    if expected == Some(len) {
        Ok(())
    } else {
        Err(QrError::InvalidFrame {
            width,
            height,
            len,
            format,
        })
    }
}

/// The gray value of an 8-bit RGB pixel, as every [`Frame`] converts it (for callers
/// that read pixels one at a time, such as X11 screen capture).
///
/// ITU-R BT.601 weights in 8-bit fixed point. They sum to 256, so the weighted sum
/// is at most 255 · 256 + 128 and fits a `u16`: 16-bit lanes let the conversion
/// vectorise.
#[must_use]
#[allow(
    clippy::cast_possible_truncation,
    reason = "the weighted sum >> 8 is at most 255"
)]
pub fn rgb_to_luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u16::from(r) + 150 * u16::from(g) + 29 * u16::from(b) + 128) >> 8) as u8
}

/// Composites a gray value over white.
#[allow(
    clippy::cast_possible_truncation,
    reason = "a weighted mean of two bytes is a byte"
)]
fn over_white(luma: u8, alpha: u8) -> u8 {
    let (luma, alpha) = (u32::from(luma), u32::from(alpha));
    ((luma * alpha + 255 * (255 - alpha) + 127) / 255) as u8
}

/// Halves both sides by averaging 2×2 blocks (an odd last row or column is dropped).
#[allow(
    clippy::cast_possible_truncation,
    reason = "the rounded mean of four bytes is a byte"
)]
fn halve(luma: &[u8], width: usize, height: usize) -> (Vec<u8>, usize, usize) {
    let (half_width, half_height) = (width / 2, height / 2);
    let mut out = Vec::with_capacity(half_width * half_height);
    for pair in luma.chunks_exact(2 * width).take(half_height) {
        let (top, bottom) = pair.split_at(width);
        for (upper, lower) in top[..2 * half_width]
            .chunks_exact(2)
            .zip(bottom[..2 * half_width].chunks_exact(2))
        {
            let sum = u16::from(upper[0])
                + u16::from(upper[1])
                + u16::from(lower[0])
                + u16::from(lower[1]);
            out.push(((sum + 2) >> 2) as u8);
        }
    }
    (out, half_width, half_height)
}

// ---------------------------------------------------------------------------------
// Decoding

/// A point in frame pixels (x right, y down), as the frame was given.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

/// Where a code sits in the frame, for the UI to outline it: its four corners
/// (top-left, top-right, bottom-right, bottom-left as the code itself is oriented).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Outline {
    pub corners: [Point; 4],
}

/// One QR code found in a frame.
#[derive(Clone, PartialEq)]
pub struct Detection {
    text: Zeroizing<String>,
    pub outline: Outline,
}

impl Detection {
    /// The decoded payload; may hold a seed.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for Detection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detection")
            .field("text_len", &self.text.len())
            .field("outline", &self.outline)
            .finish_non_exhaustive()
    }
}

/// How hard to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Effort {
    /// Live camera or screen frames: at most three quick passes, because another
    /// frame follows within ~30 ms.
    #[default]
    Video,
    /// One-off pictures (files, clipboard, a screenshot): every pass at every
    /// resolution, since there is no next frame to wait for.
    Still,
}

/// Every QR code found in `frame` (any payload), with corners in `frame`'s pixels.
///
/// Passes run in order until one finds a code. Both efforts start on the frame
/// halved until its longer side is at most [`MAX_DECODE_SIDE`]. [`Effort::Video`]
/// then tries the next finer level (full resolution for 1080p: codes whose modules
/// shrink under ~2 px when halved need it), looking for finder patterns every few
/// rows only, and the coarse level again with a darkening tone curve (for
/// washed-out codes); an empty 1080p frame, which runs all three, stays under the
/// 15 ms budget of one core (`BENCHMARKS.md`). [`Effort::Still`] tries both tones
/// at every level, then one global threshold, which survives blur that defeats the
/// local ones.
#[must_use]
pub fn decode_frame(frame: &Frame, effort: Effort) -> Vec<Detection> {
    let levels = pyramid(frame);
    let coarsest = levels.len() - 1;
    let pass = |level, tone, binarization, every_row| Pass {
        level,
        tone,
        binarization,
        every_row,
    };
    let passes = match effort {
        Effort::Video => {
            let mut passes = vec![pass(coarsest, Tone::Plain, Binarization::Hybrid, true)];
            if let Some(finer) = coarsest.checked_sub(1) {
                passes.push(pass(finer, Tone::Plain, Binarization::Hybrid, false));
            }
            passes.push(pass(coarsest, Tone::Darkened, Binarization::Hybrid, true));
            passes
        }
        Effort::Still => {
            let mut passes: Vec<Pass> = (0..=coarsest)
                .rev()
                .flat_map(|level| {
                    [Tone::Plain, Tone::Darkened]
                        .map(|tone| pass(level, tone, Binarization::Hybrid, true))
                })
                .collect();
            passes.push(pass(coarsest, Tone::Plain, Binarization::Global, true));
            if coarsest > 0 {
                passes.push(pass(0, Tone::Plain, Binarization::Global, true));
            }
            passes
        }
    };
    for pass in passes {
        let level = &levels[pass.level];
        let found = match pass.tone {
            Tone::Plain => detect(level, &pass),
            Tone::Darkened => detect(&level.darkened(), &pass),
        };
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

/// One decoding attempt.
struct Pass {
    /// Index into the pyramid (0: full resolution).
    level: usize,
    tone: Tone,
    binarization: Binarization,
    /// Look for finder patterns on every row (rxing's "try harder"), rather than
    /// every few rows.
    every_row: bool,
}

/// The frame at one resolution: `scale` frame pixels per level pixel.
struct Level<'a> {
    luma: std::borrow::Cow<'a, [u8]>,
    width: usize,
    height: usize,
    scale: f32,
}

impl Level<'_> {
    fn darkened(&self) -> Level<'static> {
        Level {
            luma: std::borrow::Cow::Owned(
                self.luma.iter().map(|&v| DARKEN[usize::from(v)]).collect(),
            ),
            width: self.width,
            height: self.height,
            scale: self.scale,
        }
    }
}

/// Full resolution first, then halved until the longer side fits [`MAX_DECODE_SIDE`].
fn pyramid(frame: &Frame) -> Vec<Level<'_>> {
    let max_side = MAX_DECODE_SIDE as usize;
    let mut levels = vec![Level {
        luma: std::borrow::Cow::Borrowed(&frame.luma),
        width: frame.width as usize,
        height: frame.height as usize,
        scale: 1.0,
    }];
    while let Some(last) = levels.last()
        && last.width.max(last.height) > max_side
    {
        let (luma, width, height) = halve(&last.luma, last.width, last.height);
        let scale = last.scale * 2.0;
        levels.push(Level {
            luma: std::borrow::Cow::Owned(luma),
            width,
            height,
            scale,
        });
    }
    levels
}

/// Tone curve applied before binarising.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Plain,
    /// Squared (gamma 2). rxing's binariser takes a block with little variation
    /// for background and puts its threshold at half its minimum; beside a code's
    /// wide light quiet zone that drags the local threshold down, and the dark
    /// modules of a washed-out code (gray ~100 on ~160: a dim phone screen, a
    /// faded print) turn white. Squaring pushes them well below it.
    Darkened,
}

/// `v² / 255`, rounded: the [`Tone::Darkened`] curve.
#[allow(
    clippy::cast_possible_truncation,
    reason = "v² / 255 is at most 255 for a byte v"
)]
const DARKEN: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut value = 0;
    while value < 256 {
        table[value] = ((value * value + 127) / 255) as u8;
        value += 1;
    }
    table
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Binarization {
    /// Local thresholds per 8×8 block: uneven light, the usual choice.
    Hybrid,
    /// One threshold for the whole picture.
    Global,
}

fn detect(level: &Level<'_>, pass: &Pass) -> Vec<Detection> {
    let (luma, scale) = (&level.luma[..], level.scale);
    let (Ok(w), Ok(h)) = (u32::try_from(level.width), u32::try_from(level.height)) else {
        return Vec::new();
    };
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let Ok(source) = Luma8Source::new_with_slice(luma, w, h) else {
        return Vec::new();
    };
    // rxing is a port with plenty of indexing: a panic on some odd frame must cost
    // that frame, not the scanner.
    let every_row = pass.every_row;
    let results = panic::catch_unwind(AssertUnwindSafe(|| match pass.binarization {
        Binarization::Hybrid => read_all(
            &mut BinaryBitmap::new(HybridBinarizer::new(source)),
            every_row,
        ),
        Binarization::Global => read_all(
            &mut BinaryBitmap::new(GlobalHistogramBinarizer::new(source)),
            every_row,
        ),
    }))
    .unwrap_or_default();
    results
        .into_iter()
        .filter_map(|result| {
            let points = result.getPoints();
            let corner = |index: usize| {
                points.get(index).map(|point| Point {
                    x: point.x * scale,
                    y: point.y * scale,
                })
            };
            // rxing lists top-left, top-right, bottom-left, bottom-right; an outline
            // is drawn around the polygon.
            let corners = [corner(0)?, corner(1)?, corner(3)?, corner(2)?];
            Some(Detection {
                text: Zeroizing::new(result.getText().to_owned()),
                outline: Outline { corners },
            })
        })
        .collect()
}

fn read_all<B: Binarizer>(
    bitmap: &mut BinaryBitmap<B>,
    every_row: bool,
) -> Vec<rxing::RXingResult> {
    let hints = DecodeHints {
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        TryHarder: Some(every_row),
        ..DecodeHints::default()
    };
    QrReader
        .decode_multiple_with_hints(bitmap, &hints)
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------
// Payloads

/// What a 2FA QR code holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// One `otpauth://` token.
    Otpauth(Box<ParsedUri>),
    /// One code of a Google Authenticator export.
    Migration(migration::MigrationBatch),
}

/// Reads a decoded QR payload as a 2FA code.
pub fn classify(text: &str) -> Result<Payload, QrError> {
    let text = text.trim();
    if strip_prefix_ignore_case(text, "otpauth-migration:").is_some() {
        let batch = migration::decode(text).map_err(CollectError::Decode)?;
        Ok(Payload::Migration(batch))
    } else if strip_prefix_ignore_case(text, "otpauth:").is_some() {
        Ok(Payload::Otpauth(Box::new(uri::parse_full(text)?)))
    } else {
        Err(QrError::NotTwoFactor)
    }
}

// ---------------------------------------------------------------------------------
// Scanning

/// What a scan produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanOutcome {
    /// A single `otpauth://` code.
    Token(Box<ParsedUri>),
    /// A Google Authenticator export: complete, unless the frames ran out first
    /// (then `progress` says what is missing).
    Migration(MigrationScan),
}

/// The entries of a scanned Google Authenticator export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationScan {
    pub progress: Progress,
    /// Every entry in export order; one unusable entry never costs the others.
    pub entries: Vec<Result<Token, EntryError>>,
}

/// What one frame did to a [`ScanSession`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanStep {
    /// No QR code in this frame: keep scanning.
    NothingFound,
    /// A code of a multi-code export; `new` is false when it was already scanned
    /// (the camera keeps seeing the code on screen). Keep scanning.
    Batch { progress: Progress, new: bool },
    /// Finished; the session starts afresh with the next frame.
    Done(ScanOutcome),
}

/// Produces frames to scan: the app's camera and screen capture implement it; tests
/// use synthetic frames.
pub trait FrameSource {
    /// The next frame, waiting for it if need be; `None` when the source has ended.
    fn next_frame(&mut self) -> Result<Option<Frame>, FrameSourceError>;
}

/// Scans frames until a 2FA code is found: stops at the first valid `otpauth://`
/// code, and for a Google Authenticator export keeps going until every one of its
/// codes has been seen, in any order.
#[derive(Debug, Default)]
pub struct ScanSession {
    effort: Effort,
    collector: MigrationCollector,
    outlines: Vec<Outline>,
}

impl ScanSession {
    /// A session for live frames ([`Effort::Video`]).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    #[must_use]
    pub fn with_effort(effort: Effort) -> Self {
        Self {
            effort,
            ..Self::default()
        }
    }

    /// Decodes one frame. Errors concern this frame only (a non-2FA code in view, a
    /// damaged export code…): show them and keep feeding frames.
    pub fn feed(&mut self, frame: &Frame) -> Result<ScanStep, QrError> {
        let detections = decode_frame(frame, self.effort);
        self.feed_detections(&detections)
    }

    /// Feeds already-decoded codes (for callers that decode elsewhere).
    pub fn feed_detections(&mut self, detections: &[Detection]) -> Result<ScanStep, QrError> {
        self.outlines = detections.iter().map(|d| d.outline).collect();
        let mut step = None;
        let mut error = None;
        for detection in detections {
            match classify(detection.text()) {
                Ok(Payload::Otpauth(parsed)) => {
                    if self.collector_is_empty() {
                        return Ok(ScanStep::Done(ScanOutcome::Token(parsed)));
                    }
                    error.get_or_insert(QrError::ExportInProgress {
                        progress: self.collector.progress(),
                    });
                }
                Ok(Payload::Migration(batch)) => match self.collector.add(batch) {
                    Ok(added) => {
                        if self.collector.is_complete() {
                            let collector = std::mem::take(&mut self.collector);
                            return Ok(ScanStep::Done(ScanOutcome::Migration(MigrationScan {
                                progress: collector.progress(),
                                entries: collector.into_entries(),
                            })));
                        }
                        let (progress, new) = match added {
                            Added::New(progress) => (progress, true),
                            Added::AlreadyScanned(progress) => (progress, false),
                        };
                        // Several codes of one export in a frame: report it as new
                        // if any of them was.
                        let new = new || matches!(step, Some(ScanStep::Batch { new: true, .. }));
                        step = Some(ScanStep::Batch { progress, new });
                    }
                    Err(collect) => {
                        error.get_or_insert(QrError::Migration(collect));
                    }
                },
                Err(problem) => {
                    error.get_or_insert(problem);
                }
            }
        }
        match (step, error) {
            (Some(step), _) => Ok(step),
            (None, Some(error)) => Err(error),
            (None, None) => Ok(ScanStep::NothingFound),
        }
    }

    /// Pulls and decodes one frame; `None` once the source has ended.
    pub fn next_step<S: FrameSource + ?Sized>(
        &mut self,
        source: &mut S,
    ) -> Option<Result<ScanStep, QrError>> {
        match source.next_frame() {
            Ok(Some(frame)) => Some(self.feed(&frame)),
            Ok(None) => None,
            Err(error) => Some(Err(QrError::Source(error))),
        }
    }

    /// Scans until done or until the source ends. A source error ends the scan; a
    /// frame's own error does not (the last one is returned if nothing was found).
    /// When the source ends partway through an export, the partial export is
    /// returned: check its `progress`.
    pub fn run<S: FrameSource + ?Sized>(&mut self, source: &mut S) -> Result<ScanOutcome, QrError> {
        let mut last_error = None;
        while let Some(step) = self.next_step(source) {
            match step {
                Ok(ScanStep::Done(outcome)) => return Ok(outcome),
                Ok(ScanStep::NothingFound | ScanStep::Batch { .. }) => {}
                Err(error @ QrError::Source(_)) => return Err(error),
                Err(error) => last_error = Some(error),
            }
        }
        self.take_partial()
            .ok_or_else(|| last_error.unwrap_or(QrError::NoQrCode))
    }

    /// How far an export has been scanned; `None` before its first code.
    #[must_use]
    pub fn progress(&self) -> Option<Progress> {
        (!self.collector_is_empty()).then(|| self.collector.progress())
    }

    /// Export codes still to scan, numbered from 1 as the exporting app shows them.
    #[must_use]
    pub fn missing_batches(&self) -> Vec<u32> {
        if self.collector_is_empty() {
            Vec::new()
        } else {
            self.collector.missing()
        }
    }

    /// Outlines of the codes in the last frame fed (2FA or not), for the UI.
    #[must_use]
    pub fn outlines(&self) -> &[Outline] {
        &self.outlines
    }

    /// Ends an export scan early, keeping what was scanned (`None` if nothing was).
    pub fn take_partial(&mut self) -> Option<ScanOutcome> {
        if self.collector_is_empty() {
            return None;
        }
        let collector = std::mem::take(&mut self.collector);
        Some(ScanOutcome::Migration(MigrationScan {
            progress: collector.progress(),
            entries: collector.into_entries(),
        }))
    }

    fn collector_is_empty(&self) -> bool {
        self.collector.progress().scanned == 0
    }

    /// Forgets everything scanned so far.
    pub fn reset(&mut self) {
        self.collector = MigrationCollector::new();
        self.outlines.clear();
    }
}

/// Scans a PNG or JPEG file's bytes (a file, a clipboard image) with every pass.
/// One code of a multi-code export gives a partial [`ScanOutcome::Migration`];
/// feed further pictures to a [`ScanSession`] to collect the rest.
pub fn decode_image_bytes(bytes: &[u8]) -> Result<ScanOutcome, QrError> {
    let frame = Frame::from_image_bytes(bytes)?;
    let mut session = ScanSession::with_effort(Effort::Still);
    match session.feed(&frame)? {
        ScanStep::Done(outcome) => Ok(outcome),
        ScanStep::Batch { .. } => session.take_partial().ok_or(QrError::NoQrCode),
        ScanStep::NothingFound => Err(QrError::NoQrCode),
    }
}

#[cfg(test)]
mod tests {
    use super::rgb_to_luma as luma;

    // Moved from the app's screen capture, which now uses this conversion.
    #[test]
    fn luma_spans_black_to_white() {
        assert_eq!(luma(0, 0, 0), 0);
        assert_eq!(luma(255, 255, 255), 255);
        assert!(
            luma(0, 255, 0) > luma(255, 0, 0),
            "green reads brighter than red"
        );
    }
}
