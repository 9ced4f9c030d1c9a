//! From decoded payloads to tokens: classifying a payload, and a [`ScanSession`]
//! gathering the codes of a multi-code export across frames.

use crate::migration::{self, Added, CollectError, EntryError, MigrationCollector, Progress};
use crate::token::Token;
use crate::uri::{self, ParsedUri, strip_prefix_ignore_case};

use super::decode::{Detection, Effort, Outline, decode_frame};
use super::frame::Frame;
use super::{FrameSourceError, QrError};

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
