//! Exporters, checked by reading their output back through the importers.

// Helpers outside #[test] fns are not covered by clippy's allow-unwrap-in-tests; a
// panic in a fixture helper is the test failure report.
#![allow(clippy::unwrap_used)]

mod common;

use kaito_core::export;
use kaito_core::import::{self, Format};
use kaito_core::{Algorithm, OtpKind, Secret, Token};

fn tokens() -> Vec<Token> {
    let mut tokens = common::one_of_each_kind();
    tokens.push(
        Token::new(
            "Slow",
            "",
            OtpKind::Totp { period: 60 },
            Algorithm::Sha256,
            7,
            Secret::from_bytes(vec![1; 16]).unwrap(),
        )
        .unwrap(),
    );
    tokens
}

fn without_groups(tokens: &[Token]) -> Vec<Token> {
    tokens.iter().cloned().map(|t| t.with_group(None)).collect()
}

#[test]
fn uri_list_round_trips_through_the_importer() {
    let text = export::to_uri_list(&tokens());
    assert_eq!(text.lines().count(), 4);
    assert!(text.lines().all(|line| line.starts_with("otpauth://")));
    let report = import::detect_and_import(text.as_bytes(), None).unwrap();
    assert_eq!(report.format, Some(Format::UriList));
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    // otpauth URIs carry no folder.
    assert_eq!(report.tokens, without_groups(&tokens()));
}

#[test]
fn google_export_batches_and_reports_what_it_cannot_carry() {
    let many: Vec<Token> = (0..23)
        .map(|i| {
            Token::new(
                format!("Service {i}"),
                "me",
                OtpKind::Totp { period: 30 },
                Algorithm::Sha1,
                6,
                Secret::from_bytes(vec![u8::try_from(i).unwrap() + 1; 10]).unwrap(),
            )
            .unwrap()
        })
        .chain(tokens())
        .collect();
    let export = export::to_google_migration(&many, 77);
    // 23 + GitHub + Example fit; Steam and the 7-digit, 60 s token do not.
    assert_eq!(export.batches.len(), 3);
    let left_out: Vec<&str> = export.left_out.iter().map(|u| u.label.as_str()).collect();
    assert_eq!(left_out, ["Steam (gamer)", "Slow"]);
    assert_eq!(export.left_out[0].index, 25);

    let text = export
        .batches
        .iter()
        .map(|b| b.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let report = import::detect_and_import(text.as_bytes(), None).unwrap();
    assert_eq!(report.format, Some(Format::GoogleMigration));
    assert_eq!(report.tokens.len(), 25);
    assert_eq!(report.tokens[..23], many[..23]);
    assert_eq!(report.tokens[23..], without_groups(&tokens()[..2]));
}

#[test]
fn aegis_plain_export_round_trips_with_groups() {
    let json = export::to_aegis_plain(&tokens());
    let report = import::detect_and_import(json.as_bytes(), None).unwrap();
    assert_eq!(report.format, Some(Format::Aegis));
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(report.tokens, tokens());
}

#[test]
fn separate_google_exports_sharing_a_batch_id_both_import() {
    let all = tokens();
    let first = export::to_google_migration(&all[..1], 0);
    let second = export::to_google_migration(&all[1..2], 0);
    let text = format!(
        "{}\n{}",
        first.batches[0].as_str(),
        second.batches[0].as_str()
    );
    let report = import::detect_and_import(text.as_bytes(), None).unwrap();
    assert_eq!(report.tokens, without_groups(&all[..2]));
    assert!(report.incomplete.is_empty());
}
