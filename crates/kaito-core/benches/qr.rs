//! QR decoding speed per camera frame (720p, 1080p; one core) and success rate on
//! the varied synthetic corpus (`tests/common/qr_corpus.rs`), for rxing as Kaito uses
//! it and for rqrr, the alternative. Numbers go in BENCHMARKS.md
//! (`## kaito-core: QR decoding`).
//!
//! Timed per frame: RGB8 → grayscale `Frame` + decoding, cycling through the corpus
//! frames of one resolution (codes of every kind, and empty frames); and the webcam
//! viewfinder's preview JPEG per frame.

#![allow(clippy::expect_used, reason = "fixed, valid benchmark inputs")]

#[path = "../tests/common/qr_corpus.rs"]
mod qr_corpus;

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use kaito_core::live::Preview;
use kaito_core::qr::{Effort, Frame, MAX_DECODE_SIDE, decode_frame};
use qr_corpus::{FULL_HD, HD, Picture, Sample, varied_corpus, varied_corpus_with_seed};

/// The frame as both decoders see it: halved like `decode_frame` does (bench copy,
/// so rqrr gets the same preprocessing).
fn halved(frame: &Frame) -> Frame {
    let (mut luma, mut width, mut height) = (
        frame.luma().to_vec(),
        frame.width() as usize,
        frame.height() as usize,
    );
    while width.max(height) > MAX_DECODE_SIDE as usize {
        let (half_width, half_height) = (width / 2, height / 2);
        let mut out = Vec::with_capacity(half_width * half_height);
        for y in 0..half_height {
            for x in 0..half_width {
                let at = |dx: usize, dy: usize| u16::from(luma[(2 * y + dy) * width + 2 * x + dx]);
                let sum = at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1);
                out.push(u8::try_from((sum + 2) >> 2).expect("mean of bytes"));
            }
        }
        (luma, width, height) = (out, half_width, half_height);
    }
    Frame::from_luma8(
        u32::try_from(width).expect("small"),
        u32::try_from(height).expect("small"),
        luma,
    )
    .expect("consistent size")
}

fn rxing_video(picture: &Picture) -> Vec<String> {
    decode_frame(&picture.frame(), Effort::Video)
        .iter()
        .map(|detection| detection.text().to_owned())
        .collect()
}

fn rxing_still(picture: &Picture) -> Vec<String> {
    decode_frame(&picture.frame(), Effort::Still)
        .iter()
        .map(|detection| detection.text().to_owned())
        .collect()
}

/// rxing on the halved frame only: one pass, no finer retry.
fn rxing_single_pass(picture: &Picture) -> Vec<String> {
    decode_frame(&halved(&picture.frame()), Effort::Video)
        .iter()
        .map(|detection| detection.text().to_owned())
        .collect()
}

fn rqrr(picture: &Picture) -> Vec<String> {
    let frame = halved(&picture.frame());
    let width = frame.width() as usize;
    let luma = frame.luma();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(width, frame.height() as usize, |x, y| {
            luma[y * width + x]
        });
    prepared
        .detect_grids()
        .iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect()
}

fn rqrr_after_rxing(picture: &Picture) -> Vec<String> {
    let found = rxing_single_pass(picture);
    if found.is_empty() {
        rqrr(picture)
    } else {
        found
    }
}

type Decoder = fn(&Picture) -> Vec<String>;

const DECODERS: &[(&str, Decoder)] = &[
    ("rxing, live mode (Effort::Video)", rxing_video),
    ("rxing, still mode (Effort::Still)", rxing_still),
    ("rxing, halved frame only", rxing_single_pass),
    ("rqrr, halved frame", rqrr),
    ("rxing halved, then rqrr", rqrr_after_rxing),
];

fn print_success_rates(corpus: &[Sample]) {
    println!("success on the varied corpus (frames with a code; exact payload):");
    for (name, decoder) in DECODERS {
        let mut line = String::new();
        let (mut all_hits, mut all_total) = (0, 0);
        for (label, height) in [("720p", HD.1), ("1080p", FULL_HD.1)] {
            let (mut hits, mut total) = (0, 0);
            for sample in corpus.iter().filter(|s| s.picture.height == height) {
                let Some(payload) = &sample.payload else {
                    continue;
                };
                total += 1;
                if decoder(&sample.picture).contains(payload) {
                    hits += 1;
                }
            }
            write!(line, "  {label} {hits}/{total}").expect("writing to a String");
            (all_hits, all_total) = (all_hits + hits, all_total + total);
        }
        let false_hits = corpus
            .iter()
            .filter(|s| s.payload.is_none() && !decoder(&s.picture).is_empty())
            .count();
        println!(
            "  {name:36} {all_hits}/{all_total} ({:.1} %);{line}; codes in empty frames: {false_hits}",
            100.0 * f64::from(all_hits) / f64::from(all_total)
        );
    }
}

/// The live mode on the same kind of set drawn with other seeds.
fn print_other_seeds() {
    let (mut hits, mut total) = (0, 0);
    for seed in 1..=4 {
        for sample in varied_corpus_with_seed(seed) {
            if let Some(payload) = &sample.payload {
                total += 1;
                if rxing_video(&sample.picture).contains(payload) {
                    hits += 1;
                }
            }
        }
    }
    println!(
        "  rxing live mode, 4 other seeds:       {hits}/{total} ({:.1} %)",
        100.0 * f64::from(hits) / f64::from(total)
    );
}

fn bench_decoding(c: &mut Criterion) {
    let corpus = varied_corpus();
    print_success_rates(&corpus);
    print_other_seeds();

    let mut group = c.benchmark_group("qr");
    group.sample_size(20);
    for (label, height) in [("720p", HD.1), ("1080p", FULL_HD.1)] {
        let frames: Vec<&Picture> = corpus
            .iter()
            .filter(|s| s.picture.height == height)
            .map(|s| &s.picture)
            .collect();
        let empty: Vec<&Picture> = corpus
            .iter()
            .filter(|s| s.picture.height == height && s.payload.is_none())
            .map(|s| &s.picture)
            .collect();
        for (name, set, decoder) in [
            ("rxing live, corpus mix", &frames, rxing_video as Decoder),
            ("rxing live, empty frames", &empty, rxing_video),
            ("rqrr, corpus mix", &frames, rqrr),
        ] {
            let mut next = 0;
            group.bench_function(format!("{label} {name}"), |b| {
                b.iter(|| {
                    let picture = set[next % set.len()];
                    next += 1;
                    black_box(decoder(black_box(picture)))
                });
            });
        }
        let picture = frames[0];
        let frame = picture.frame();
        // The webcam's viewfinder picture, made for up to 20 frames a second.
        group.bench_function(format!("{label} viewfinder preview (JPEG)"), |b| {
            b.iter(|| black_box(Preview::of(black_box(&frame), &[])));
        });
        group.bench_function(format!("{label} RGB8 to grayscale Frame"), |b| {
            b.iter(|| {
                black_box(Frame::from_rgb8(
                    picture.width,
                    picture.height,
                    &picture.rgb,
                ))
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1));
    targets = bench_decoding
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
