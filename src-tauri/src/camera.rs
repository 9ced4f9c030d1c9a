//! Webcam scanning. The camera runs on a thread of its own (cameras are not `Send` on
//! every platform, and reading a frame blocks) through kaito-core's live scan: each
//! frame goes to the QR scan, and a small preview with the detected code's outline
//! goes to the window about 20 times a second, until a 2FA code is found or the
//! dialog closes — which releases the camera. [`Webcam`] adapts nokhwa (V4L2,
//! `AVFoundation`, Media Foundation) to kaito-core's [`FrameSource`].

use base64::Engine as _;
use kaito_core::live::{LiveEvent, Preview, scan_live};
use kaito_core::qr::{
    Frame, FrameSource, FrameSourceError, PixelFormat, QrError, ScanSession, ScanStep,
};
use nokhwa::pixel_format::LumaFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
};
use nokhwa::{Camera, NokhwaError};
use serde::Serialize;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime};

use crate::IpcError;
use crate::state::{AppState, lock};
use crate::views::{ScanResultView, unix_now};

/// The largest frame asked of the camera: QR codes decode well below it, and a 4K
/// stream would only cost time.
const MAX_CAPTURE_WIDTH: u32 = 1280;

/// A camera the user can choose.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CameraView {
    pub index: u32,
    pub name: String,
}

/// What the camera scan tells the window, in order, over one channel.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum CameraEvent {
    /// The camera is streaming.
    Started { name: String },
    /// A grayscale JPEG (base64) and the outline of each code found in it, in preview
    /// pixels.
    Preview {
        jpeg: String,
        width: u32,
        height: u32,
        outlines: Vec<Vec<[f32; 2]>>,
    },
    /// A scan result: a token to check, an export to preview, or export progress.
    Scanned { result: ScanResultView },
    /// A code in view that is not a 2FA code, or a damaged one; scanning goes on.
    Notice { message: String },
    /// The camera could not be used; scanning has stopped.
    Failed { code: String, message: String },
    /// The camera was turned off without the dialog closing (the window was hidden).
    Stopped,
}

/// Why a camera cannot be used, in the words the user needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CameraError {
    #[error("No camera found. Connect one, or scan the QR code from an image or your screen.")]
    NotFound,
    #[error("The camera is busy: another app is using it. Close that app and try again.")]
    Busy,
    #[error(
        "Kaito is not allowed to use the camera. Allow camera access for Kaito in your system settings (on Linux: be in the “video” group)."
    )]
    PermissionDenied,
    #[error("The camera failed: {0}")]
    Failed(String),
}

impl CameraError {
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            CameraError::NotFound => "camera.not_found",
            CameraError::Busy => "camera.busy",
            CameraError::PermissionDenied => "camera.permission_denied",
            CameraError::Failed(_) => "camera.failed",
        }
    }

    /// Reads nokhwa's error, whose OS error is only in its text ("… (os error 16)") or,
    /// on Windows, an HRESULT.
    #[must_use]
    pub fn classify(error: &NokhwaError) -> Self {
        let text = error.to_string();
        // "(os error 1)" does not match "(os error 13)": the parenthesis closes it.
        if text.contains("(os error 16)") {
            CameraError::Busy
        } else if text.contains("(os error 13)")
            || text.contains("(os error 1)")
            || text.contains("0x80070005")
        {
            CameraError::PermissionDenied
        } else if text.contains("(os error 2)")
            || text.contains("(os error 19)")
            || text.contains("(os error 6)")
        {
            CameraError::NotFound
        } else {
            CameraError::Failed(text)
        }
    }
}

impl From<CameraError> for IpcError {
    fn from(error: CameraError) -> Self {
        IpcError::new(error.code(), error.to_string())
    }
}

/// The cameras on this machine. An empty list is "No camera found".
pub fn list_cameras() -> Result<Vec<CameraView>, CameraError> {
    #[cfg(debug_assertions)]
    if let Some(folder) = image_folder::configured() {
        return Ok(vec![folder.view()]);
    }
    let cameras = nokhwa::query(ApiBackend::Auto).map_err(|error| CameraError::classify(&error))?;
    let views: Vec<CameraView> = cameras
        .iter()
        .filter_map(|camera| {
            Some(CameraView {
                index: camera.index().as_index().ok()?,
                name: camera.human_name(),
            })
        })
        .collect();
    if views.is_empty() {
        return Err(CameraError::NotFound);
    }
    Ok(views)
}

/// The format to stream: formats Kaito reads without a C decoder first, then the
/// largest picture up to [`MAX_CAPTURE_WIDTH`], then the highest frame rate.
#[must_use]
pub fn choose_format(formats: &[CameraFormat]) -> Option<CameraFormat> {
    let rank = |format: FrameFormat| match format {
        FrameFormat::YUYV | FrameFormat::NV12 | FrameFormat::GRAY => 2,
        FrameFormat::RAWRGB | FrameFormat::RAWBGR => 1,
        FrameFormat::MJPEG => 0,
    };
    formats
        .iter()
        .copied()
        .filter(|format| format.width() <= MAX_CAPTURE_WIDTH && format.frame_rate() >= 10)
        .max_by_key(|format| {
            (
                format.width() >= 640,
                rank(format.format()),
                format.width() * format.height(),
                format.frame_rate(),
            )
        })
}

/// The brightness of a camera frame, whatever its pixel format.
pub fn luma_frame(
    format: FrameFormat,
    width: u32,
    height: u32,
    bytes: &[u8],
) -> Result<Frame, QrError> {
    let pixels = usize::try_from(u64::from(width) * u64::from(height)).unwrap_or(usize::MAX);
    let too_short = || QrError::InvalidFrame {
        width,
        height,
        len: bytes.len(),
        format: PixelFormat::Luma8,
    };
    match format {
        // Y is the first plane of NV12 and the first w×h bytes of a grayscale frame.
        FrameFormat::GRAY | FrameFormat::NV12 => Frame::from_luma8(
            width,
            height,
            bytes.get(..pixels).ok_or_else(too_short)?.to_vec(),
        ),
        // Y0 U Y1 V: every even byte is a pixel's brightness.
        FrameFormat::YUYV => {
            let packed = bytes
                .get(..pixels.saturating_mul(2))
                .ok_or_else(too_short)?;
            Frame::from_luma8(width, height, packed.iter().step_by(2).copied().collect())
        }
        FrameFormat::RAWRGB => Frame::from_rgb8(width, height, bytes),
        FrameFormat::RAWBGR => {
            let swapped: Vec<u8> = bytes
                .chunks_exact(3)
                .flat_map(|pixel| [pixel[2], pixel[1], pixel[0]])
                .collect();
            Frame::from_rgb8(width, height, &swapped)
        }
        FrameFormat::MJPEG => Frame::from_image_bytes(bytes),
    }
}

/// A webcam streaming frames, released when dropped.
pub struct Webcam {
    camera: Camera,
    pub name: String,
}

impl Webcam {
    pub fn open(index: u32) -> Result<Self, CameraError> {
        let requested =
            RequestedFormat::new::<LumaFormat>(RequestedFormatType::AbsoluteHighestFrameRate);
        let mut camera = Camera::new(CameraIndex::Index(index), requested)
            .map_err(|error| CameraError::classify(&error))?;
        if let Ok(formats) = camera.compatible_camera_formats()
            && let Some(best) = choose_format(&formats)
        {
            // Best effort: the camera's own choice above still works if this fails.
            let wanted = [best.format()];
            let exact = RequestedFormat::with_formats(RequestedFormatType::Exact(best), &wanted);
            if let Err(error) = camera.set_camera_requset(exact) {
                tracing::debug!(%error, "camera kept its default format");
            }
        }
        camera
            .open_stream()
            .map_err(|error| CameraError::classify(&error))?;
        let name = camera.info().human_name();
        Ok(Self { camera, name })
    }
}

impl FrameSource for Webcam {
    fn next_frame(&mut self) -> Result<Option<Frame>, FrameSourceError> {
        let buffer = self
            .camera
            .frame()
            .map_err(|error| FrameSourceError::new(CameraError::classify(&error).to_string()))?;
        let resolution = buffer.resolution();
        luma_frame(
            buffer.source_frame_format(),
            resolution.width(),
            resolution.height(),
            buffer.buffer(),
        )
        .map(Some)
        .map_err(|error| FrameSourceError::new(error.to_string()))
    }
}

impl Drop for Webcam {
    fn drop(&mut self) {
        // Stopped here so the device is free at once for the next app.
        if let Err(error) = self.camera.stop_stream() {
            tracing::debug!(%error, "camera stream did not stop cleanly");
        }
    }
}

/// The viewfinder picture as the window takes it.
fn preview_event(preview: Preview) -> CameraEvent {
    CameraEvent::Preview {
        jpeg: base64::engine::general_purpose::STANDARD.encode(preview.jpeg),
        width: preview.width,
        height: preview.height,
        outlines: preview
            .outlines
            .iter()
            .map(|outline| {
                outline
                    .corners
                    .iter()
                    .map(|corner| [corner.x, corner.y])
                    .collect()
            })
            .collect(),
    }
}

/// A scan's thread and the flag that stops it.
#[derive(Debug)]
struct Running {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// The camera scan in progress, if any.
#[derive(Debug, Default)]
pub struct CameraScan {
    running: Mutex<Option<Running>>,
}

impl CameraScan {
    /// Asks the running scan to stop; its thread releases the camera after the frame
    /// it is reading. Returns that thread.
    fn signal_stop(&self) -> Option<JoinHandle<()>> {
        let running = lock(&self.running).take()?;
        running.stop.store(true, Ordering::SeqCst);
        Some(running.thread)
    }

    /// Stops the running scan, if any: the dialog closed, or the window was hidden
    /// (the dialog then offers to turn the camera on again).
    pub fn stop(&self) {
        self.signal_stop();
    }

    /// Opens camera `index` and scans until a code is found or [`Self::stop`].
    pub fn start<R: Runtime>(&self, app: &AppHandle<R>, index: u32, events: Channel<CameraEvent>) {
        let previous = self.signal_stop();
        let stop = Arc::new(AtomicBool::new(false));
        let app = app.clone();
        let flag = stop.clone();
        let spawned = std::thread::Builder::new()
            .name("kaito-camera".into())
            .spawn(move || {
                // Switching cameras, or the same one again: the last scan must have let
                // go of its device, or this open would find it busy.
                if let Some(previous) = previous {
                    let _ = previous.join();
                }
                run(&app, index, &flag, &events);
            });
        match spawned {
            Ok(thread) => *lock(&self.running) = Some(Running { stop, thread }),
            Err(error) => tracing::warn!(%error, "could not start the camera thread"),
        }
    }
}

fn send(events: &Channel<CameraEvent>, event: CameraEvent) {
    if let Err(error) = events.send(event) {
        tracing::debug!(%error, "camera event not delivered");
    }
}

/// Camera `index` as a frame source, and its name.
fn open_source(index: u32) -> Result<(Box<dyn FrameSource>, String), CameraError> {
    #[cfg(debug_assertions)]
    if let Some(folder) = image_folder::configured() {
        let name = folder.view().name;
        return Ok((Box::new(folder), name));
    }
    let webcam = Webcam::open(index)?;
    let name = webcam.name.clone();
    Ok((Box::new(webcam), name))
}

fn run<R: Runtime>(
    app: &AppHandle<R>,
    index: u32,
    stop_requested: &AtomicBool,
    events: &Channel<CameraEvent>,
) {
    let (mut source, name) = match open_source(index) {
        Ok(opened) => opened,
        Err(error) => {
            send(
                events,
                CameraEvent::Failed {
                    code: error.code().to_owned(),
                    message: error.to_string(),
                },
            );
            return;
        }
    };
    send(events, CameraEvent::Started { name });
    let state = app.state::<AppState>();
    let mut session = ScanSession::new();
    let mut last_notice = String::new();
    let result = scan_live(
        source.as_mut(),
        &mut session,
        stop_requested,
        |event| match event {
            LiveEvent::Preview(preview) => send(events, preview_event(preview)),
            // An export part already scanned, still in view.
            LiveEvent::Step {
                step: Ok(ScanStep::Batch { new: false, .. }),
                ..
            } => {}
            LiveEvent::Step { step, missing } => {
                match tauri::async_runtime::block_on(state.scan_view(step, missing, unix_now())) {
                    Ok(result) => send(events, CameraEvent::Scanned { result }),
                    // The same wrong code stays in view for many frames: say it once.
                    Err(error) if error.message != last_notice => {
                        last_notice.clone_from(&error.message);
                        send(
                            events,
                            CameraEvent::Notice {
                                message: error.message,
                            },
                        );
                    }
                    Err(_) => {}
                }
            }
        },
    );
    // The camera is free before the window hears that scanning ended.
    drop(source);
    match result {
        Err(error) => send(
            events,
            CameraEvent::Failed {
                code: "camera.failed".to_owned(),
                message: error.to_string(),
            },
        ),
        Ok(()) if stop_requested.load(Ordering::SeqCst) => send(events, CameraEvent::Stopped),
        Ok(()) => {}
    }
}

/// Debug builds only: `KAITO_TEST_CAMERA=DIR` replaces the cameras with one whose
/// frames are the images in DIR, in name order at about 30 a second, the folder read
/// again at each pass — so end-to-end tests drive the real scanner window where no
/// webcam exists, and change what it "sees" by changing the folder.
#[cfg(debug_assertions)]
mod image_folder {
    use std::path::PathBuf;
    use std::time::Duration;

    use kaito_core::qr::{Frame, FrameSource, FrameSourceError};

    use super::CameraView;

    const FRAME_INTERVAL: Duration = Duration::from_millis(33);

    pub struct ImageFolder {
        dir: PathBuf,
        queue: Vec<PathBuf>,
    }

    pub fn configured() -> Option<ImageFolder> {
        let dir = PathBuf::from(std::env::var_os("KAITO_TEST_CAMERA")?);
        Some(ImageFolder {
            dir,
            queue: Vec::new(),
        })
    }

    impl ImageFolder {
        pub fn view(&self) -> CameraView {
            CameraView {
                index: 0,
                name: format!("Test camera ({})", self.dir.display()),
            }
        }
    }

    impl FrameSource for ImageFolder {
        fn next_frame(&mut self) -> Result<Option<Frame>, FrameSourceError> {
            std::thread::sleep(FRAME_INTERVAL);
            if self.queue.is_empty() {
                let read = std::fs::read_dir(&self.dir)
                    .map_err(|error| FrameSourceError::new(error.to_string()))?;
                self.queue = read.filter_map(|entry| Some(entry.ok()?.path())).collect();
                // Popped from the end: reverse name order gives name order.
                self.queue.sort_by(|a, b| b.cmp(a));
            }
            let Some(path) = self.queue.pop() else {
                return Err(FrameSourceError::new("the test camera's folder is empty"));
            };
            let bytes =
                std::fs::read(&path).map_err(|error| FrameSourceError::new(error.to_string()))?;
            Frame::from_image_bytes(&bytes)
                .map(Some)
                .map_err(|error| FrameSourceError::new(error.to_string()))
        }
    }
}

#[cfg(test)]
#[allow(clippy::cast_possible_truncation)] // test images are small
mod tests {
    use super::*;
    use nokhwa::utils::Resolution;

    fn format(width: u32, height: u32, kind: FrameFormat, fps: u32) -> CameraFormat {
        CameraFormat::new(Resolution::new(width, height), kind, fps)
    }

    #[test]
    fn errors_read_as_the_three_cases_users_can_act_on() {
        let open = |text: &str| NokhwaError::OpenDeviceError("0".into(), text.into());
        assert_eq!(
            CameraError::classify(&NokhwaError::SetPropertyError {
                property: "Resolution, FrameFormat".into(),
                value: "1280x720".into(),
                error: "Device or resource busy (os error 16)".into(),
            }),
            CameraError::Busy
        );
        assert_eq!(
            CameraError::classify(&open("V4L2 Error: Permission denied (os error 13)")),
            CameraError::PermissionDenied
        );
        assert_eq!(
            CameraError::classify(&open("V4L2 Error: No such file or directory (os error 2)")),
            CameraError::NotFound
        );
        assert!(matches!(
            CameraError::classify(&open("something else (os error 5)")),
            CameraError::Failed(_)
        ));
        assert!(CameraError::Busy.to_string().contains("another app"));
    }

    #[test]
    fn the_format_is_big_enough_cheap_to_read_and_smooth() {
        let offered = [
            format(1920, 1080, FrameFormat::MJPEG, 30),
            format(1280, 720, FrameFormat::MJPEG, 30),
            format(1280, 720, FrameFormat::YUYV, 10),
            format(640, 480, FrameFormat::YUYV, 30),
            format(320, 240, FrameFormat::YUYV, 30),
        ];
        assert_eq!(
            choose_format(&offered),
            Some(format(1280, 720, FrameFormat::YUYV, 10)),
            "raw 720p beats MJPEG; 1080p is more than QR codes need"
        );
        let slow_raw = [
            format(1280, 720, FrameFormat::YUYV, 5),
            format(1280, 720, FrameFormat::MJPEG, 30),
        ];
        assert_eq!(
            choose_format(&slow_raw),
            Some(format(1280, 720, FrameFormat::MJPEG, 30)),
            "a stream under 10 fps is not worth it"
        );
        assert_eq!(choose_format(&[]), None);
    }

    #[test]
    fn every_pixel_format_gives_the_same_brightness() {
        // 2×1 pixels: black, white.
        let expected = [0u8, 255];
        let cases: [(FrameFormat, Vec<u8>); 5] = [
            (FrameFormat::GRAY, vec![0, 255]),
            (FrameFormat::NV12, vec![0, 255, 128, 128]),
            (FrameFormat::YUYV, vec![0, 128, 255, 128]),
            (FrameFormat::RAWRGB, vec![0, 0, 0, 255, 255, 255]),
            (FrameFormat::RAWBGR, vec![0, 0, 0, 255, 255, 255]),
        ];
        for (kind, bytes) in cases {
            let frame = luma_frame(kind, 2, 1, &bytes).unwrap();
            assert_eq!(frame.luma(), expected, "{kind}");
        }
        assert!(
            luma_frame(FrameFormat::YUYV, 2, 1, &[0, 128]).is_err(),
            "a short frame is an error, not a panic"
        );
    }
}
