//! Live scanning, as from a webcam: frames from a [`FrameSource`] go to a
//! [`ScanSession`] until a 2FA code is found, and every so often a small viewfinder
//! picture with the outlines of the codes in view goes to the window.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::qr::{
    Frame, FrameSource, FrameSourceError, Outline, Point, QrError, ScanSession, ScanStep,
};

/// Previews are this wide at most: enough to aim, cheap to encode and send.
pub const PREVIEW_WIDTH: u32 = 480;
/// A preview every 50 ms: 20 a second, above the 15 the eye needs to aim smoothly.
pub const PREVIEW_INTERVAL: Duration = Duration::from_millis(50);

/// A viewfinder picture: a grayscale JPEG and the outlines of the codes found in its
/// frame, in the picture's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub outlines: Vec<Outline>,
}

/// The preview could not be encoded.
#[derive(Debug, thiserror::Error)]
#[error("the preview could not be encoded: {0}")]
pub struct PreviewError(String);

impl Preview {
    /// `frame` downscaled by a whole factor to at most [`PREVIEW_WIDTH`] (every
    /// factor-th pixel: sharp enough to aim, far cheaper than filtering), with
    /// `outlines` (in frame pixels) scaled to match.
    pub fn of(frame: &Frame, outlines: &[Outline]) -> Result<Self, PreviewError> {
        let factor = frame.width().div_ceil(PREVIEW_WIDTH).max(1);
        let (width, height) = (frame.width() / factor, frame.height() / factor);
        let stride = frame.width() as usize;
        let step = factor as usize;
        let source = frame.luma();
        let mut pixels = Vec::with_capacity(width as usize * height as usize);
        for y in 0..height as usize {
            let row = &source[y * step * stride..];
            pixels.extend((0..width as usize).map(|x| row[x * step]));
        }
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 70)
            .encode(&pixels, width, height, image::ExtendedColorType::L8)
            .map_err(|error| PreviewError(error.to_string()))?;
        #[allow(clippy::cast_precision_loss)] // a factor of a few
        let scale = factor as f32;
        let outlines = outlines
            .iter()
            .map(|outline| Outline {
                corners: outline.corners.map(|corner| Point {
                    x: corner.x / scale,
                    y: corner.y / scale,
                }),
            })
            .collect();
        Ok(Self {
            jpeg,
            width,
            height,
            outlines,
        })
    }
}

/// What a live scan reports, in order.
#[derive(Debug)]
pub enum LiveEvent {
    Preview(Preview),
    /// Something was found: a token, an export part, a finished export, or a code
    /// that is not a 2FA code (or is damaged); `missing` lists the export parts still
    /// to show.
    Step {
        step: Result<ScanStep, QrError>,
        missing: Vec<u32>,
    },
}

/// Feeds frames from `source` to `session` until a scan finishes, the source ends or
/// fails, or `stop_requested` is set. Reports a preview at most every
/// [`PREVIEW_INTERVAL`] — and always for a frame where something was found, so its
/// outline shows — and every step that found something.
pub fn scan_live(
    source: &mut dyn FrameSource,
    session: &mut ScanSession,
    stop_requested: &AtomicBool,
    mut report: impl FnMut(LiveEvent),
) -> Result<(), FrameSourceError> {
    let mut last_preview: Option<Instant> = None;
    while !stop_requested.load(Ordering::SeqCst) {
        let Some(frame) = source.next_frame()? else {
            return Ok(());
        };
        let step = session.feed(&frame);
        let found = !matches!(step, Ok(ScanStep::NothingFound));
        if found || last_preview.is_none_or(|at| at.elapsed() >= PREVIEW_INTERVAL) {
            last_preview = Some(Instant::now());
            // A frame without a preview only costs the viewfinder one update.
            if let Ok(preview) = Preview::of(&frame, session.outlines()) {
                report(LiveEvent::Preview(preview));
            }
        }
        let done = matches!(step, Ok(ScanStep::Done(_)));
        if found {
            report(LiveEvent::Step {
                step,
                missing: session.missing_batches(),
            });
        }
        if done {
            return Ok(());
        }
    }
    Ok(())
}
