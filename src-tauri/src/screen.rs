//! Grabbing every monitor as a frame, to find a QR code shown anywhere on screen (a
//! setup page in the browser, a colleague's screen share).
//!
//! X11 is read directly (pure Rust, no system libraries); macOS and Windows go through
//! xcap. A native Wayland session has no way to read the screen without the desktop's
//! screenshot portal, which is not wired up yet: it gets a clear error pointing to the
//! clipboard scan instead.

use kaito_core::qr::Frame;

/// Why the screen could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScreenError {
    #[error(
        "Kaito cannot read the screen on Wayland yet. Take a screenshot to the clipboard (PrtSc) and use “Scan clipboard”."
    )]
    Wayland,
    #[error("The screen could not be read: {0}")]
    Capture(String),
    #[error("No screen was found to scan.")]
    NoScreen,
}

impl ScreenError {
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ScreenError::Wayland => "screen.wayland",
            ScreenError::Capture(_) => "screen.capture",
            ScreenError::NoScreen => "screen.none",
        }
    }
}

impl From<ScreenError> for crate::IpcError {
    fn from(error: ScreenError) -> Self {
        crate::IpcError::new(error.code(), error.to_string())
    }
}

/// One grayscale frame per monitor.
pub fn capture_monitors() -> Result<Vec<Frame>, ScreenError> {
    let frames = platform::capture()?;
    if frames.is_empty() {
        return Err(ScreenError::NoScreen);
    }
    Ok(frames)
}

/// ITU-R BT.601 luma from 8-bit RGB, as the QR decoder's own conversion does.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    let weighted = 299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b);
    // At most 255 * 1000 / 1000: fits.
    u8::try_from(weighted / 1000).unwrap_or(u8::MAX)
}

#[cfg(target_os = "linux")]
mod platform {
    use kaito_core::qr::Frame;
    use x11rb::connection::Connection as _;
    use x11rb::image::{Image, PixelLayout};
    use x11rb::protocol::randr::ConnectionExt as _;
    use x11rb::protocol::xproto::{Screen, Visualtype};

    use super::{ScreenError, luma};

    fn failed(error: impl std::fmt::Display) -> ScreenError {
        ScreenError::Capture(error.to_string())
    }

    pub fn capture() -> Result<Vec<Frame>, ScreenError> {
        // Under Wayland, X11 sees only XWayland windows (the browser is usually native
        // and would read as black): say so rather than "no QR code found".
        let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some()
            || std::env::var("XDG_SESSION_TYPE").is_ok_and(|kind| kind == "wayland");
        if wayland {
            return Err(ScreenError::Wayland);
        }
        if std::env::var_os("DISPLAY").is_none() {
            return Err(ScreenError::NoScreen);
        }
        let (connection, screen_number) = x11rb::connect(None).map_err(failed)?;
        let screen = connection
            .setup()
            .roots
            .get(screen_number)
            .ok_or(ScreenError::NoScreen)?;
        let mut frames = Vec::new();
        for (x, y, width, height) in monitors(&connection, screen)? {
            let (image, visual_id) =
                Image::get(&connection, screen.root, x, y, width, height).map_err(failed)?;
            let layout = PixelLayout::from_visual_type(
                visual(screen, visual_id).ok_or(ScreenError::NoScreen)?,
            )
            .map_err(failed)?;
            let mut pixels = Vec::with_capacity(usize::from(width) * usize::from(height));
            for row in 0..height {
                for column in 0..width {
                    let (r, g, b) = layout.decode(image.get_pixel(column, row));
                    pixels.push(luma(high(r), high(g), high(b)));
                }
            }
            frames.push(
                Frame::from_luma8(u32::from(width), u32::from(height), pixels).map_err(failed)?,
            );
        }
        Ok(frames)
    }

    /// The monitors' rectangles, clipped to the root window (reading outside it is an
    /// X error); the whole root when the `RandR` extension cannot tell.
    fn monitors(
        connection: &impl x11rb::connection::Connection,
        screen: &Screen,
    ) -> Result<Vec<(i16, i16, u16, u16)>, ScreenError> {
        let (root_width, root_height) = (screen.width_in_pixels, screen.height_in_pixels);
        let has_monitors = connection
            .randr_query_version(1, 5)
            .ok()
            .and_then(|cookie| cookie.reply().ok())
            .is_some_and(|version| (version.major_version, version.minor_version) >= (1, 5));
        let mut rectangles = Vec::new();
        if has_monitors {
            let reply = connection
                .randr_get_monitors(screen.root, true)
                .map_err(failed)?
                .reply()
                .map_err(failed)?;
            for monitor in reply.monitors {
                let left = monitor.x.max(0);
                let top = monitor.y.max(0);
                let right =
                    (i32::from(monitor.x) + i32::from(monitor.width)).min(i32::from(root_width));
                let bottom =
                    (i32::from(monitor.y) + i32::from(monitor.height)).min(i32::from(root_height));
                if let (Ok(width), Ok(height)) = (
                    u16::try_from(right - i32::from(left)),
                    u16::try_from(bottom - i32::from(top)),
                ) && width > 0
                    && height > 0
                {
                    rectangles.push((left, top, width, height));
                }
            }
        }
        if rectangles.is_empty() {
            rectangles.push((0, 0, root_width, root_height));
        }
        Ok(rectangles)
    }

    fn visual(screen: &Screen, id: u32) -> Option<Visualtype> {
        screen
            .allowed_depths
            .iter()
            .flat_map(|depth| &depth.visuals)
            .find(|visual| visual.visual_id == id)
            .copied()
    }

    /// The top 8 bits of a 16-bit channel.
    fn high(channel: u16) -> u8 {
        channel.to_be_bytes()[0]
    }
}

#[cfg(any(target_os = "macos", target_os = "windows"))]
mod platform {
    use kaito_core::qr::Frame;

    use super::ScreenError;

    pub fn capture() -> Result<Vec<Frame>, ScreenError> {
        let monitors =
            xcap::Monitor::all().map_err(|error| ScreenError::Capture(error.to_string()))?;
        let mut frames = Vec::new();
        for monitor in monitors {
            let image = monitor
                .capture_image()
                .map_err(|error| ScreenError::Capture(error.to_string()))?;
            frames.push(
                Frame::from_rgba8(image.width(), image.height(), image.as_raw())
                    .map_err(|error| ScreenError::Capture(error.to_string()))?,
            );
        }
        Ok(frames)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
mod platform {
    use kaito_core::qr::Frame;

    use super::ScreenError;

    pub fn capture() -> Result<Vec<Frame>, ScreenError> {
        Err(ScreenError::NoScreen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
