//! Any bytes as a migration payload (and as URI text): decoding must not panic, and
//! every token it accepts must survive encode → decode unchanged.
#![no_main]

use kaito_core::Token;
use kaito_core::migration::{
    ExportSkip, MigrationCollector, decode, decode_payload, encode_batches,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = decode(text);
    }
    let Ok(batch) = decode_payload(data) else {
        return;
    };
    let tokens: Vec<Token> = batch.entries.into_iter().filter_map(Result::ok).collect();
    let export = encode_batches(&tokens, 3, batch.batch_id);
    // Decoding accepts a literal 7-digit count that Google Authenticator cannot
    // express; nothing else may be refused on the way back out.
    for skipped in &export.skipped {
        assert_eq!(skipped.reason, ExportSkip::Digits { digits: 7 });
    }
    let exported: Vec<Token> = tokens
        .iter()
        .enumerate()
        .filter(|(index, _)| !export.skipped.iter().any(|s| s.index == *index))
        .map(|(_, token)| token.clone())
        .collect();
    let mut collector = MigrationCollector::new();
    for uri in export.uris.iter().rev() {
        collector.add_uri(uri).expect("our own export must decode");
    }
    let again: Vec<Token> = collector
        .into_entries()
        .into_iter()
        .map(|e| e.expect("entry"))
        .collect();
    assert_eq!(again, exported);
});
