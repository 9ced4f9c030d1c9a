//! Any bytes given to the 2FAS importer: an error or a report, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    use kaito_core::import::{Importer, TwoFasImporter};
    let _ = TwoFasImporter.import(data, None);
    let _ = TwoFasImporter.import(data, Some("fuzz"));
});
