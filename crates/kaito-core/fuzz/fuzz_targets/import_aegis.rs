//! Any bytes given to the Aegis importer: an error or a report, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    use kaito_core::import::{AegisImporter, Importer};
    // With and without a password: the first stops at "password required", the
    // second walks the slots (the KDF cost bounds keep hostile parameters cheap).
    let _ = AegisImporter.import(data, None);
    let _ = AegisImporter.import(data, Some("fuzz"));
});
