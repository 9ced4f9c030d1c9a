//! Finding QR codes in one frame: the resolution pyramid, the tone and binarisation
//! passes, and rxing's reader.

use std::collections::HashSet;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::multi::MultipleBarcodeReader;
use rxing::qrcode::cpp_port::QrReader;
use rxing::{BarcodeFormat, Binarizer, BinaryBitmap, DecodeHints, Luma8Source};
use zeroize::Zeroizing;

use super::frame::{Frame, halve};

/// Frames whose longer side exceeds this are halved (repeatedly) before decoding.
pub const MAX_DECODE_SIDE: u32 = 1280;

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
        luma: std::borrow::Cow::Borrowed(frame.luma()),
        width: frame.width() as usize,
        height: frame.height() as usize,
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
