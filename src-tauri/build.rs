//! The Tauri config lives at the workspace root (one file for the whole project), so
//! point tauri-build at it; paths inside it are relative to the root.
fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json"))
        .unwrap_or_else(|error| panic!("tauri-build failed: {error:#}"));
}
