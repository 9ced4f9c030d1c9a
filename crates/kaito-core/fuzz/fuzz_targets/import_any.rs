//! Any bytes through format detection and the chosen importer: never a panic, and
//! the sniffers never claim a file that their importer then rejects.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    use kaito_core::import;
    // Sniffing must agree with the importer it picks: a detected format never
    // answers "not this format".
    let detected = import::detect(data);
    match import::detect_and_import(data, None) {
        Err(import::ImportError::NotThisFormat { expected }) => {
            panic!("detect() chose {detected:?} but its importer refused: {expected:?}")
        }
        Ok(report) => assert_eq!(report.format, detected),
        Err(_) => {}
    }
});
