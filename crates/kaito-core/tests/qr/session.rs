//! `ScanSession` driven by a synthetic frame source (single codes, a 3-code Google
//! export, non-2FA codes, empty frames, a failing source), and payload classification.

use kaito_core::migration::CollectError;
use kaito_core::qr::{
    Detection, Effort, Frame, FrameSource, FrameSourceError, Payload, QrError, ScanOutcome,
    ScanSession, ScanStep, classify, decode_frame, decode_image_bytes,
};
use kaito_core::uri::{self, UriError};

use crate::qr_corpus::{
    HD, Look, NOT_TWO_FACTOR, Rng, SyntheticFrameSource, migration_export, otpauth_uri, render,
};
use crate::{clean_picture, png_bytes, progress, token_of};

#[test]
fn session_skips_empty_and_foreign_codes_and_stops_at_the_first_token() {
    let mut rng = Rng::new(5);
    let first = otpauth_uri(&mut rng);
    let second = otpauth_uri(&mut rng);
    let mut source = SyntheticFrameSource::showing(
        41,
        &[
            None,
            Some(NOT_TWO_FACTOR),
            None,
            Some(&first),
            Some(&second),
        ],
    );
    let mut session = ScanSession::new();

    assert_eq!(
        session.next_step(&mut source).unwrap().unwrap(),
        ScanStep::NothingFound
    );
    assert!(session.outlines().is_empty());

    let error = session.next_step(&mut source).unwrap().unwrap_err();
    assert_eq!(error, QrError::NotTwoFactor);
    assert_eq!(error.to_string(), "This QR code is not a 2FA code");
    assert_eq!(error.code(), "qr.not_two_factor");
    assert_eq!(
        session.outlines().len(),
        1,
        "the UI still outlines the foreign code"
    );

    // `run` goes on from here and stops at the first valid code.
    let parsed = token_of(session.run(&mut source).unwrap());
    assert_eq!(parsed, uri::parse_full(&first).unwrap());
    assert_eq!(source.remaining(), 1, "frames after the token are not read");
}

#[test]
fn session_collects_a_three_code_export_in_any_order_with_progress() {
    let (tokens, batches) = migration_export(99, 25);
    assert_eq!(batches.len(), 3);
    let mut source = SyntheticFrameSource::showing(
        77,
        &[
            Some(&batches[1]),
            None,
            Some(&batches[1]),
            Some(&batches[0]),
            Some(NOT_TWO_FACTOR),
            Some(&batches[2]),
        ],
    );
    let mut session = ScanSession::new();
    let mut step = || session_step(&mut session, &mut source);

    assert_eq!(
        step().unwrap(),
        ScanStep::Batch {
            progress: progress(1, 3),
            new: true
        }
    );
    assert_eq!(step().unwrap(), ScanStep::NothingFound);
    assert_eq!(
        step().unwrap(),
        ScanStep::Batch {
            progress: progress(1, 3),
            new: false
        },
        "the same code again changes nothing"
    );
    assert_eq!(
        step().unwrap(),
        ScanStep::Batch {
            progress: progress(2, 3),
            new: true
        }
    );
    assert_eq!(step().unwrap_err(), QrError::NotTwoFactor);
    let ScanStep::Done(ScanOutcome::Migration(scan)) = step().unwrap() else {
        panic!("the third code completes the export");
    };
    assert_eq!(scan.progress, progress(3, 3));
    assert_eq!(scan.progress.to_string(), "3 of 3 scanned");
    let scanned: Vec<_> = scan.entries.into_iter().map(Result::unwrap).collect();
    assert_eq!(scanned, tokens, "every token, in export order");
}

fn session_step(
    session: &mut ScanSession,
    source: &mut SyntheticFrameSource,
) -> Result<ScanStep, QrError> {
    session.next_step(source).expect("frames left")
}

#[test]
fn session_progress_and_missing_codes_while_scanning_an_export() {
    let (_, batches) = migration_export(8, 25);
    let mut source = SyntheticFrameSource::showing(3, &[Some(&batches[2]), Some(&batches[0])]);
    let mut session = ScanSession::new();
    assert_eq!(session.progress(), None);
    assert!(session.missing_batches().is_empty());
    session.next_step(&mut source).unwrap().unwrap();
    assert_eq!(session.progress(), Some(progress(1, 3)));
    assert_eq!(session.missing_batches(), vec![1, 2]);
    // The source ends before the export is complete: `run` hands back what it has.
    let ScanOutcome::Migration(scan) = session.run(&mut source).unwrap() else {
        panic!("expected a partial export");
    };
    assert_eq!(scan.progress, progress(2, 3));
    assert!(!scan.progress.is_complete());
    assert_eq!(scan.entries.len(), 15);
    assert_eq!(
        session.progress(),
        None,
        "the partial export was handed over"
    );
}

#[test]
fn session_refuses_a_single_code_or_another_export_during_an_export() {
    let (_, batches) = migration_export(1, 25);
    let (_, other_export) = migration_export(2, 25);
    let mut rng = Rng::new(9);
    let single = otpauth_uri(&mut rng);
    let mut source = SyntheticFrameSource::showing(
        17,
        &[Some(&batches[0]), Some(&single), Some(&other_export[1])],
    );
    let mut session = ScanSession::new();
    session.next_step(&mut source).unwrap().unwrap();

    let error = session.next_step(&mut source).unwrap().unwrap_err();
    assert_eq!(
        error,
        QrError::ExportInProgress {
            progress: progress(1, 3)
        }
    );
    assert_eq!(error.code(), "qr.export_in_progress");
    assert!(error.to_string().contains("1 of 3 scanned"), "{error}");

    let error = session.next_step(&mut source).unwrap().unwrap_err();
    assert!(
        matches!(
            error,
            QrError::Migration(CollectError::DifferentExport { .. })
        ),
        "{error:?}"
    );
    assert_eq!(error.code(), "qr.invalid_export");
    assert_eq!(
        session.progress(),
        Some(progress(1, 3)),
        "nothing collected is lost"
    );

    session.reset();
    assert_eq!(session.progress(), None);
}

#[test]
fn session_keeps_scanning_empty_frames_and_reports_no_code() {
    let mut source = SyntheticFrameSource::showing(23, &[None, None, None]);
    let mut session = ScanSession::new();
    let error = session.run(&mut source).unwrap_err();
    assert_eq!(error, QrError::NoQrCode);
    assert_eq!(error.code(), "qr.no_code");
    assert_eq!(source.served, 3, "every frame was scanned");
}

#[test]
fn session_reports_the_last_frame_problem_when_nothing_usable_was_found() {
    let mut source = SyntheticFrameSource::showing(29, &[Some(NOT_TWO_FACTOR), None]);
    assert_eq!(
        ScanSession::new().run(&mut source).unwrap_err(),
        QrError::NotTwoFactor
    );
}

struct BrokenCamera {
    frames_before_failure: usize,
    frame: Frame,
}

impl FrameSource for BrokenCamera {
    fn next_frame(&mut self) -> Result<Option<Frame>, FrameSourceError> {
        if self.frames_before_failure == 0 {
            return Err(FrameSourceError::new("the camera was unplugged"));
        }
        self.frames_before_failure -= 1;
        Ok(Some(self.frame.clone()))
    }
}

#[test]
fn a_failing_source_ends_the_scan_with_its_error() {
    let blank = render(&mut Rng::new(2), HD, None, &Look::clean(4.0)).frame();
    let mut camera = BrokenCamera {
        frames_before_failure: 2,
        frame: blank,
    };
    let error = ScanSession::new().run(&mut camera).unwrap_err();
    assert_eq!(
        error,
        QrError::Source(FrameSourceError::new("the camera was unplugged"))
    );
    assert_eq!(error.code(), "qr.source_failed");
    assert!(error.to_string().contains("unplugged"));
}

#[test]
fn a_broken_otpauth_code_is_a_typed_error_without_the_secret() {
    let bad = "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP!!&issuer=GitHub";
    let mut source = SyntheticFrameSource::showing(31, &[Some(bad)]);
    let error = ScanSession::new().run(&mut source).unwrap_err();
    assert!(
        matches!(error, QrError::InvalidOtpauth(UriError::Secret(_))),
        "{error:?}"
    );
    assert_eq!(error.code(), "qr.invalid_otpauth");
    assert!(!error.to_string().contains("JBSWY3DP"), "{error}");
}

#[test]
fn payloads_are_classified_by_scheme() {
    let mut rng = Rng::new(4);
    let uri = otpauth_uri(&mut rng);
    let shouted = format!("  {}", uri.replacen("otpauth", "OTPAUTH", 1));
    for text in [uri.as_str(), shouted.as_str()] {
        match classify(text).unwrap() {
            Payload::Otpauth(parsed) => assert_eq!(*parsed, uri::parse_full(&uri).unwrap()),
            Payload::Migration(_) => panic!("not an export"),
        }
    }
    let (_, batches) = migration_export(6, 3);
    assert!(
        matches!(classify(&batches[0]).unwrap(), Payload::Migration(batch) if batch.entries.len() == 3)
    );

    for foreign in [
        NOT_TWO_FACTOR,
        "WIFI:S:Office;T:WPA;P:correct horse;;",
        "",
        "otpauthx://totp/a?secret=JBSWY3DPEHPK3PXP",
    ] {
        assert_eq!(
            classify(foreign).unwrap_err(),
            QrError::NotTwoFactor,
            "{foreign:?}"
        );
    }
    let damaged = classify("otpauth-migration://offline?data=%%%").unwrap_err();
    assert_eq!(damaged.code(), "qr.invalid_export");
    assert!(matches!(
        classify("otpauth://totp/a").unwrap_err(),
        QrError::InvalidOtpauth(UriError::MissingSecret)
    ));
}

#[test]
fn debug_output_never_shows_a_seed() {
    let mut rng = Rng::new(12);
    let uri = otpauth_uri(&mut rng);
    let secret = uri
        .split("secret=")
        .nth(1)
        .and_then(|rest| rest.split('&').next())
        .unwrap()
        .to_owned();
    assert_eq!(secret.len(), 32);
    let picture = clean_picture(12, HD, &uri);
    let detections: Vec<Detection> = decode_frame(&picture.frame(), Effort::Video);
    assert_eq!(detections.len(), 1);
    let outcome = decode_image_bytes(&png_bytes(&picture)).unwrap();
    let (_, batches) = migration_export(13, 2);
    let export = classify(&batches[0]).unwrap();
    for debug in [
        format!("{detections:?}"),
        format!("{outcome:?}"),
        format!("{export:?}"),
        format!("{:?}", picture.frame()),
    ] {
        assert!(!debug.contains(&secret), "seed in {debug}");
        assert!(!debug.contains("otpauth"), "payload in {debug}");
        assert!(!debug.contains("data="), "payload in {debug}");
    }
}
