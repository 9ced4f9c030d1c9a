//! One picture to scan: pixels in any supported layout, kept as grayscale, plus the
//! 2×2 halving the decoder's resolution pyramid is built from.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use super::QrError;

/// Largest image file [`decode_image_bytes`](super::decode_image_bytes) reads: far
/// above any screenshot or photo of a QR code, far below what would strain memory.
pub const MAX_IMAGE_BYTES: usize = 64 << 20;
/// Largest image side accepted from a file; the decoder would also refuse to
/// allocate for a forged header claiming more.
const MAX_IMAGE_SIDE: u32 = 16_384;
/// Memory the image decoder may allocate for one picture.
const MAX_IMAGE_ALLOC: u64 = 512 << 20;

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
pub(super) fn halve(luma: &[u8], width: usize, height: usize) -> (Vec<u8>, usize, usize) {
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
