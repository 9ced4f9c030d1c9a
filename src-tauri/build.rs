//! The Tauri config lives at the workspace root (one file for the whole project), so
//! point tauri-build at it; paths inside it are relative to the root.
//!
//! Every app command is declared here, so each gets an `allow-…` permission and no
//! window may call one its capability does not list (`capabilities/`): the palette
//! can read and copy codes, never reveal a seed, change a token or run team admin.

/// Every command of `generate_handler!` in `src/lib.rs` (a command missing here is
/// refused to every window, so the app's tests notice).
const COMMANDS: &[&str] = &[
    "app_info",
    "team_status",
    "team_sign_in",
    "team_sign_out",
    "team_join",
    "team_set_password",
    "team_tokens",
    "copy_team_code",
    "team_inbox",
    "copy_sms_code",
    "team_keep_seed",
    "team_forget_seed",
    "team_admin_overview",
    "team_add_member",
    "team_invite",
    "team_disable_member",
    "team_enable_member",
    "team_set_member_role",
    "team_password_link",
    "team_change_password",
    "team_create_group",
    "team_add_to_group",
    "team_remove_from_group",
    "team_add_shared_token",
    "team_rotate",
    "team_grant",
    "team_revoke_grant",
    "team_audit",
    "team_export_audit",
    "team_sinks",
    "team_add_sink",
    "team_remove_sink",
    "list_tokens",
    "stage_uri",
    "pending_code",
    "confirm_pending",
    "discard_pending",
    "copy_code",
    "delete_token",
    "undo_delete",
    "directory_status",
    "directory_search",
    "directory_match",
    "directory_refresh",
    "open_link",
    "validate_manual",
    "stage_manual",
    "preview_import",
    "commit_import",
    "discard_import",
    "edit_token",
    "move_token",
    "list_groups",
    "get_settings",
    "save_settings",
    "lock_status",
    "lock_now",
    "unlock",
    "set_passphrase",
    "change_passphrase",
    "remove_passphrase",
    "touch",
    "scan_image",
    "scan_clipboard",
    "scan_screen",
    "list_cameras",
    "start_camera",
    "stop_camera",
    "reset_scan",
    "reveal_secret",
    "clock_warning",
    "take_launch_uri",
    "shortcut_problem",
    "autostart_enabled",
    "set_autostart",
    "hide_palette",
    "show_main_window",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .config_path("../tauri.conf.json")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .unwrap_or_else(|error| panic!("tauri-build failed: {error:#}"));
}
