//! Live scanning (the webcam's loop): previews, exports part by part, stopping.

use std::sync::atomic::AtomicBool;

use kaito_core::live::{LiveEvent, Preview, scan_live};
use kaito_core::qr::{ScanOutcome, ScanSession, ScanStep};
use kaito_core::uri;

use crate::qr_corpus::{Rng, SyntheticFrameSource, migration_export, otpauth_uri};

fn live_events(source: &mut SyntheticFrameSource) -> Vec<LiveEvent> {
    let mut events = Vec::new();
    scan_live(
        source,
        &mut ScanSession::new(),
        &AtomicBool::new(false),
        |event| events.push(event),
    )
    .unwrap();
    events
}

fn previews(events: &[LiveEvent]) -> Vec<&Preview> {
    events
        .iter()
        .filter_map(|event| match event {
            LiveEvent::Preview(preview) => Some(preview),
            LiveEvent::Step { .. } => None,
        })
        .collect()
}

#[test]
fn live_scan_previews_outlines_the_code_and_stops_at_the_first_token() {
    let uri = otpauth_uri(&mut Rng::new(31));
    let mut source =
        SyntheticFrameSource::showing(31, &[None, None, Some(&uri), Some(&uri), Some(&uri)]);
    let events = live_events(&mut source);
    assert_eq!(
        source.remaining(),
        2,
        "stopped at the first frame with the code"
    );

    let shown = previews(&events);
    let first = shown.first().expect("the viewfinder shows the first frame");
    assert_eq!(
        (first.width, first.height),
        (426, 240),
        "720p at a third: under 480"
    );
    assert!(first.jpeg.starts_with(&[0xFF, 0xD8]), "a JPEG");
    let decoded = image::load_from_memory(&first.jpeg).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (426, 240));
    assert!(first.outlines.is_empty(), "nothing outlined without a code");

    let last = shown.last().unwrap();
    assert_eq!(
        last.outlines.len(),
        1,
        "the frame with the code is shown outlined"
    );
    for corner in last.outlines[0].corners {
        assert!(
            (0.0..426.0).contains(&corner.x) && (0.0..240.0).contains(&corner.y),
            "the outline is in preview pixels: {corner:?}"
        );
    }
    match events.last() {
        Some(LiveEvent::Step {
            step: Ok(ScanStep::Done(ScanOutcome::Token(parsed))),
            ..
        }) => assert_eq!(parsed.token, uri::parse(&uri).unwrap()),
        other => panic!("the scan ended with {other:?}"),
    }
}

#[test]
fn live_scan_reads_an_export_part_by_part_and_names_what_is_missing() {
    let (_, parts) = migration_export(32, 15);
    assert_eq!(parts.len(), 2, "fifteen tokens make two codes");
    let mut source = SyntheticFrameSource::showing(
        32,
        &[Some(&parts[1]), Some(&parts[1]), None, Some(&parts[0])],
    );
    let steps: Vec<(String, Vec<u32>)> = live_events(&mut source)
        .into_iter()
        .filter_map(|event| match event {
            LiveEvent::Step { step, missing } => Some((
                match step.unwrap() {
                    ScanStep::Batch { progress, new } => {
                        format!("{} of {}, new: {new}", progress.scanned, progress.total)
                    }
                    ScanStep::Done(ScanOutcome::Migration(scan)) => {
                        format!("done: {} tokens", scan.entries.len())
                    }
                    other => format!("{other:?}"),
                },
                missing,
            )),
            LiveEvent::Preview(_) => None,
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("1 of 2, new: true".to_owned(), vec![1]),
            ("1 of 2, new: false".to_owned(), vec![1]),
            ("done: 15 tokens".to_owned(), vec![]),
        ]
    );
}

#[test]
fn a_stop_request_ends_the_live_scan_before_the_camera_is_read() {
    let mut source = SyntheticFrameSource::showing(33, &[None, None]);
    let mut reported = false;
    scan_live(
        &mut source,
        &mut ScanSession::new(),
        &AtomicBool::new(true),
        |_| reported = true,
    )
    .unwrap();
    assert!(!reported);
    assert_eq!(source.served, 0);
}
