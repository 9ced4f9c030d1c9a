//! Grabbing every monitor as a frame, to find a QR code shown anywhere on screen (a
//! setup page in the browser, a colleague's screen share).
//!
//! X11 is read directly (pure Rust, no system libraries); macOS and Windows go through
//! xcap. A Wayland session cannot be read by apps: there the desktop's screenshot
//! portal takes one picture of the whole desktop (asking the user once), and the file
//! it saves is deleted as soon as it is read — it may show a seed.

use kaito_core::qr::Frame;

/// The clipboard route, which works on every desktop.
const CLIPBOARD_HINT: &str = "Take a screenshot to the clipboard (PrtSc) and use “Scan clipboard”.";

/// Why the screen could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScreenError {
    #[error(
        "This Wayland desktop offers apps no screenshots (no xdg-desktop-portal). {CLIPBOARD_HINT}"
    )]
    PortalMissing,
    #[error(
        "The desktop did not let Kaito take a screenshot. Allow screenshots for Kaito in your privacy settings, or: {CLIPBOARD_HINT}"
    )]
    Denied,
    #[error("The screenshot was cancelled.")]
    Cancelled,
    #[error("The screen could not be read: {0}")]
    Capture(String),
    #[error("No screen was found to scan.")]
    NoScreen,
}

impl ScreenError {
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ScreenError::PortalMissing => "screen.portal_missing",
            ScreenError::Denied => "screen.denied",
            ScreenError::Cancelled => "screen.cancelled",
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

/// One grayscale frame per monitor (on Wayland, one of the whole desktop).
pub async fn capture_monitors() -> Result<Vec<Frame>, ScreenError> {
    #[cfg(target_os = "linux")]
    if is_wayland() {
        return Ok(vec![portal::screenshot(None).await?]);
    }
    let frames = tauri::async_runtime::spawn_blocking(platform::capture)
        .await
        .map_err(|error| ScreenError::Capture(error.to_string()))??;
    if frames.is_empty() {
        return Err(ScreenError::NoScreen);
    }
    Ok(frames)
}

/// Under Wayland, X11 sees only `XWayland` windows (the browser is usually native and
/// would read as black).
#[cfg(target_os = "linux")]
fn is_wayland() -> bool {
    std::env::var_os("WAYLAND_DISPLAY").is_some()
        || std::env::var("XDG_SESSION_TYPE").is_ok_and(|kind| kind == "wayland")
}

#[cfg(target_os = "linux")]
pub mod portal {
    use ashpd::desktop::ResponseError;
    use ashpd::desktop::screenshot::Screenshot;
    use ashpd::{Error, PortalError, zbus};
    use kaito_core::qr::Frame;

    use super::ScreenError;

    /// D-Bus errors meaning nobody provides the portal.
    const NO_PORTAL: [&str; 5] = [
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
        "org.freedesktop.DBus.Error.UnknownMethod",
        "org.freedesktop.DBus.Error.UnknownInterface",
        "org.freedesktop.DBus.Error.UnknownObject",
    ];

    /// A non-interactive screenshot of the whole desktop through the portal on
    /// `connection` (the session bus by default), read and then deleted.
    pub async fn screenshot(connection: Option<zbus::Connection>) -> Result<Frame, ScreenError> {
        let shot = Screenshot::request()
            .interactive(false)
            .modal(false)
            .connection(connection)
            .send()
            .await
            .and_then(|request| request.response())
            .map_err(classify)?;
        let uri = shot.uri().as_str();
        let path = url::Url::parse(uri)
            .ok()
            .and_then(|url| url.to_file_path().ok())
            .ok_or_else(|| ScreenError::Capture(format!("the portal answered {uri}")))?;
        let bytes = tokio::fs::read(&path).await;
        // Deleted whatever the read gave: the picture may hold a seed, and the user
        // did not ask for a screenshot file.
        if let Err(error) = tokio::fs::remove_file(&path).await {
            tracing::warn!(%error, path = %path.display(), "could not delete the portal's screenshot");
        }
        let bytes = bytes.map_err(|error| ScreenError::Capture(error.to_string()))?;
        Frame::from_image_bytes(&bytes).map_err(|error| ScreenError::Capture(error.to_string()))
    }

    fn classify(error: Error) -> ScreenError {
        let bus_error_name = |error: &zbus::Error| match error {
            zbus::Error::MethodError(name, _, _) => Some(name.as_str().to_owned()),
            zbus::Error::FDO(fdo) => Some(zbus::DBusError::name(fdo.as_ref()).as_str().to_owned()),
            _ => None,
        };
        match error {
            // KDE's backend also answers "cancelled" when its capture fails.
            Error::Response(ResponseError::Cancelled)
            | Error::Portal(PortalError::Cancelled(_)) => ScreenError::Cancelled,
            // The frontend answers "other" when the user (or a stored choice) refused.
            Error::Response(ResponseError::Other) | Error::Portal(PortalError::NotAllowed(_)) => {
                ScreenError::Denied
            }
            Error::PortalNotFound(_) => ScreenError::PortalMissing,
            Error::Portal(PortalError::ZBus(ref bus)) | Error::Zbus(ref bus)
                if bus_error_name(bus).is_some_and(|name| NO_PORTAL.contains(&name.as_str())) =>
            {
                ScreenError::PortalMissing
            }
            Error::Zbus(zbus::Error::Address(_) | zbus::Error::InputOutput(_)) => {
                ScreenError::PortalMissing
            }
            other => ScreenError::Capture(other.to_string()),
        }
    }
}

#[cfg(target_os = "linux")]
mod platform {
    use kaito_core::qr::{Frame, rgb_to_luma};
    use x11rb::connection::Connection as _;
    use x11rb::image::{Image, PixelLayout};
    use x11rb::protocol::randr::ConnectionExt as _;
    use x11rb::protocol::xproto::{Screen, Visualtype};

    use super::ScreenError;

    fn failed(error: impl std::fmt::Display) -> ScreenError {
        ScreenError::Capture(error.to_string())
    }

    pub fn capture() -> Result<Vec<Frame>, ScreenError> {
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
                    pixels.push(rgb_to_luma(high(r), high(g), high(b)));
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
    /// A stand-in for xdg-desktop-portal on the test session's D-Bus, answering as
    /// GNOME's backend does: a file in the user's pictures, or a refusal.
    #[cfg(target_os = "linux")]
    mod portal {
        use std::collections::HashMap;
        use std::path::PathBuf;

        use kaito_core::qr::{Effort, decode_frame};
        use zbus::zvariant;

        use super::super::{ScreenError, portal::screenshot};

        struct FakePortal {
            /// The screenshot to hand out, or `None` to answer "not allowed".
            file: Option<PathBuf>,
        }

        // Its signature is the portal's, not ours.
        #[allow(clippy::unused_async, clippy::unused_self)]
        #[zbus::interface(name = "org.freedesktop.portal.Screenshot")]
        impl FakePortal {
            async fn screenshot(
                &self,
                #[zbus(header)] header: zbus::message::Header<'_>,
                #[zbus(connection)] connection: &zbus::Connection,
                parent_window: &str,
                options: HashMap<String, zvariant::OwnedValue>,
            ) -> zbus::fdo::Result<zvariant::OwnedObjectPath> {
                assert_eq!(parent_window, "", "non-interactive: no window to sit over");
                let token = String::try_from(options["handle_token"].try_clone().unwrap()).unwrap();
                let sender = header.sender().unwrap().as_str()[1..].replace('.', "_");
                let path = format!("/org/freedesktop/portal/desktop/request/{sender}/{token}");
                let (code, uri) = match &self.file {
                    Some(file) => (0u32, url::Url::from_file_path(file).unwrap().to_string()),
                    None => (2, String::new()),
                };
                let connection = connection.clone();
                let signal_path = path.clone();
                // The answer comes later, as a signal on the request, like the real one.
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    let results = HashMap::from([("uri", zvariant::Value::from(uri))]);
                    connection
                        .emit_signal(
                            None::<()>,
                            signal_path.as_str(),
                            "org.freedesktop.portal.Request",
                            "Response",
                            &(code, results),
                        )
                        .await
                        .unwrap();
                });
                Ok(zvariant::OwnedObjectPath::try_from(path).unwrap())
            }

            #[zbus(property, name = "version")]
            fn version(&self) -> u32 {
                2
            }
        }

        async fn serve(file: Option<PathBuf>) -> zbus::Connection {
            zbus::connection::Builder::session()
                .unwrap()
                .name("org.freedesktop.portal.Desktop")
                .unwrap()
                .serve_at("/org/freedesktop/portal/desktop", FakePortal { file })
                .unwrap()
                .build()
                .await
                .expect("a D-Bus session (make test runs tests inside one)")
        }

        fn qr_png(path: &std::path::Path, text: &str) {
            let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
            let modules = u32::try_from(code.width()).unwrap();
            // A 1920×1080 desktop with the code (6 px modules) somewhere on it.
            let mut desktop = image::GrayImage::from_pixel(1920, 1080, image::Luma([230]));
            for (index, color) in (0u32..).zip(code.to_colors()) {
                if color == qrcode::Color::Dark {
                    let (left, top) = (1200 + index % modules * 6, 300 + index / modules * 6);
                    for (x, y) in (0..36).map(|i| (left + i % 6, top + i / 6)) {
                        desktop.put_pixel(x, y, image::Luma([15]));
                    }
                }
            }
            desktop.save(path).unwrap();
        }

        #[tokio::test]
        async fn the_portal_screenshot_is_read_then_deleted_and_refusals_are_explained() {
            let uri = "otpauth://totp/Wayland:gail?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Wayland";
            let pictures = tempfile::tempdir().unwrap();
            let file = pictures.path().join("Screenshot.png");
            qr_png(&file, uri);
            let client = zbus::Connection::session().await.unwrap();

            let portal = serve(Some(file.clone())).await;
            let frame = screenshot(Some(client.clone())).await.unwrap();
            assert_eq!((frame.width(), frame.height()), (1920, 1080));
            let found = decode_frame(&frame, Effort::Still);
            assert_eq!(
                found.first().map(kaito_core::qr::Detection::text),
                Some(uri)
            );
            assert!(
                !file.exists(),
                "the screenshot (it shows a seed) is deleted"
            );
            drop(portal);

            let portal = serve(None).await;
            let refused = screenshot(Some(client.clone())).await.unwrap_err();
            assert!(matches!(refused, ScreenError::Denied), "{refused:?}");
            assert!(refused.to_string().contains("Scan clipboard"));
            drop(portal);

            // Nobody on the bus provides the portal.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let missing = screenshot(Some(client)).await.unwrap_err();
            assert!(matches!(missing, ScreenError::PortalMissing), "{missing:?}");
        }
    }
}
