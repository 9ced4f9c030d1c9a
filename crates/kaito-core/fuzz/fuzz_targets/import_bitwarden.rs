//! Any bytes given to the Bitwarden importer: an error or a report, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    use kaito_core::import::{BitwardenImporter, Importer};
    let _ = BitwardenImporter.import(data, None);
});
