import { invoke, type Channel } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { IpcError } from '../bindings/IpcError';
import type { AppInfo } from '../bindings/AppInfo';
import type { DeletedToken } from '../bindings/DeletedToken';
import type { PendingTokenView } from '../bindings/PendingTokenView';
import type { TokenView } from '../bindings/TokenView';
import type { DirectoryStatus } from '../bindings/DirectoryStatus';
import type { ServiceView } from '../bindings/ServiceView';
import type { FieldErrorView } from '../bindings/FieldErrorView';
import type { ImportOutcome } from '../bindings/ImportOutcome';
import type { ImportPreview } from '../bindings/ImportPreview';
import type { ManualEntryForm } from '../bindings/ManualEntryForm';
import type { TokenEditForm } from '../bindings/TokenEditForm';
import type { LockStatus } from '../bindings/LockStatus';
import type { SettingsView } from '../bindings/SettingsView';
import type { ScanResultView } from '../bindings/ScanResultView';
import type { RevealedSecret } from '../bindings/RevealedSecret';
import type { MfaStatusView } from '../bindings/MfaStatusView';
import type { TotpEnrolmentView } from '../bindings/TotpEnrolmentView';
import type { CameraEvent } from '../bindings/CameraEvent';
import type { CameraView } from '../bindings/CameraView';
import type { TeamStatusView } from '../bindings/TeamStatusView';
import type { SsoAvailabilityView } from '../bindings/SsoAvailabilityView';
import type { RequiredSetupView } from '../bindings/RequiredSetupView';
import type { SsoSettingsView } from '../bindings/SsoSettingsView';
import type { SsoForm } from '../bindings/SsoForm';
import type { TeamTokensView } from '../bindings/TeamTokensView';
import type { TeamInboxView } from '../bindings/TeamInboxView';
import type { TeamAdminView } from '../bindings/TeamAdminView';
import type { OneTimeLink } from '../bindings/OneTimeLink';
import type { ApiTokenRow } from '../bindings/ApiTokenRow';
import type { CreatedApiTokenRow } from '../bindings/CreatedApiTokenRow';
import type { GrantForm } from '../bindings/GrantForm';
import type { AuditFilterForm } from '../bindings/AuditFilterForm';
import type { AuditPageView } from '../bindings/AuditPageView';
import type { ExportedFile } from '../bindings/ExportedFile';
import type { SinkRow } from '../bindings/SinkRow';
import type { SinkForm } from '../bindings/SinkForm';

/** An error from a Kaito command, carrying the stable `code` the Rust side chose. */
export class KaitoError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'KaitoError';
    this.code = code;
  }
}

function isIpcError(value: unknown): value is IpcError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as IpcError).code === 'string' &&
    typeof (value as IpcError).message === 'string'
  );
}

/** Normalises anything a rejected `invoke` can throw into a `KaitoError`. */
export function toKaitoError(error: unknown): KaitoError {
  if (error instanceof KaitoError) return error;
  if (isIpcError(error)) return new KaitoError(error.code, error.message);
  // Tauri itself rejects with plain strings (unknown command, bad arguments).
  const message = error instanceof Error ? error.message : String(error);
  return new KaitoError('ipc', message || 'The app did not answer.');
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw toKaitoError(error);
  }
}

export const commands = {
  appInfo: () => call<AppInfo>('app_info'),
  listTokens: () => call<TokenView[]>('list_tokens'),
  stageUri: (uri: string) => call<PendingTokenView>('stage_uri', { uri }),
  pendingCode: (pendingId: string) => call<PendingTokenView>('pending_code', { pendingId }),
  confirmPending: (pendingId: string) => call<TokenView>('confirm_pending', { pendingId }),
  discardPending: (pendingId: string) => call<void>('discard_pending', { pendingId }),
  copyCode: (id: string) => call<string>('copy_code', { id }),
  deleteToken: (id: string) => call<DeletedToken>('delete_token', { id }),
  undoDelete: (id: string, deletedAtMs: number) => call<void>('undo_delete', { id, deletedAtMs }),
  directoryStatus: () => call<DirectoryStatus>('directory_status'),
  directorySearch: (query: string, limit?: number) => call<ServiceView[]>('directory_search', { query, limit }),
  directoryMatch: (issuer: string) => call<ServiceView | null>('directory_match', { issuer }),
  directoryRefresh: () => call<DirectoryStatus>('directory_refresh'),
  openLink: (url: string) => call<void>('open_link', { url }),
  validateManual: (entry: ManualEntryForm) => call<FieldErrorView[]>('validate_manual', { entry }),
  stageManual: (entry: ManualEntryForm) => call<PendingTokenView>('stage_manual', { entry }),
  previewImport: (bytes: Uint8Array, password?: string) =>
    call<ImportPreview>('preview_import', { bytes: Array.from(bytes), password: password || null }),
  commitImport: (importId: string) => call<ImportOutcome>('commit_import', { importId }),
  discardImport: (importId: string) => call<void>('discard_import', { importId }),
  editToken: (id: string, edit: TokenEditForm) => call<TokenView>('edit_token', { id, edit }),
  moveToken: (id: string, before: string | null) => call<void>('move_token', { id, before }),
  listGroups: () => call<string[]>('list_groups'),
  getSettings: () => call<SettingsView>('get_settings'),
  saveSettings: (settings: SettingsView) => call<SettingsView>('save_settings', { settings }),
  lockStatus: () => call<LockStatus>('lock_status'),
  lockNow: () => call<LockStatus>('lock_now'),
  unlock: (passphrase: string) => call<LockStatus>('unlock', { passphrase }),
  setPassphrase: (passphrase: string) => call<LockStatus>('set_passphrase', { passphrase }),
  changePassphrase: (current: string, next: string) => call<LockStatus>('change_passphrase', { current, new: next }),
  removePassphrase: (current: string) => call<LockStatus>('remove_passphrase', { current }),
  touch: () => call<void>('touch'),
  scanImage: (bytes: Uint8Array) => call<ScanResultView>('scan_image', { bytes: Array.from(bytes) }),
  scanClipboard: () => call<ScanResultView>('scan_clipboard'),
  scanScreen: () => call<ScanResultView>('scan_screen'),
  listCameras: () => call<CameraView[]>('list_cameras'),
  startCamera: (index: number, events: Channel<CameraEvent>) => call<void>('start_camera', { index, events }),
  stopCamera: () => call<void>('stop_camera'),
  resetScan: () => call<void>('reset_scan'),
  clockWarning: () => call<string | null>('clock_warning'),
  takeLaunchUri: () => call<string | null>('take_launch_uri'),
  shortcutProblem: () => call<string | null>('shortcut_problem'),
  autostartEnabled: () => call<boolean>('autostart_enabled'),
  setAutostart: (enabled: boolean) => call<boolean>('set_autostart', { enabled }),
  hidePalette: () => call<void>('hide_palette'),
  showMainWindow: () => call<void>('show_main_window'),
  revealSecret: (id: string, passphrase?: string) =>
    call<RevealedSecret>('reveal_secret', { id, passphrase: passphrase || null }),
  teamStatus: () => call<TeamStatusView>('team_status'),
  teamSignIn: (serverUrl: string, email: string, password: string) =>
    call<TeamStatusView>('team_sign_in', { serverUrl, email, password }),
  /** After `team.second_factor_required`: the authenticator's code or a recovery code. */
  teamSignInCode: (code: string) => call<TeamStatusView>('team_sign_in_code', { code }),
  /** For a sign-in whose team requires two-step sign-in the account lacks. */
  teamBeginRequiredSetup: () => call<TotpEnrolmentView>('team_begin_required_setup'),
  teamFinishRequiredSetup: (code: string) => call<RequiredSetupView>('team_finish_required_setup', { code }),
  teamMfaPolicy: () => call<boolean>('team_mfa_policy'),
  teamSetMfaPolicy: (required: boolean) => call<boolean>('team_set_mfa_policy', { required }),
  /** Whether the email's team signs in through its identity provider (read from the domain). */
  teamSsoAvailability: (serverUrl: string, email: string) => call<SsoAvailabilityView>('team_sso_availability', { serverUrl, email }),
  /** Opens the provider in the system browser and waits for it to come back. */
  teamSignInSso: (serverUrl: string, email: string) => call<TeamStatusView>('team_sign_in_sso', { serverUrl, email }),
  teamCancelSso: () => call<void>('team_cancel_sso'),
  teamSsoSettings: () => call<SsoSettingsView>('team_sso_settings'),
  /** Owners; the server reads the provider's metadata before it saves. */
  teamSetSsoSettings: (form: SsoForm) => call<SsoSettingsView>('team_set_sso_settings', { form }),
  teamRemoveSso: () => call<void>('team_remove_sso'),
  /** Refused with `team.unsent_events` while views or copies wait to reach the team's log, unless `discardUnsent`. */
  teamSignOut: (discardUnsent = false) => call<TeamStatusView>('team_sign_out', { discardUnsent }),
  teamJoin: (link: string, name: string, password: string) => call<TeamStatusView>('team_join', { link, name, password }),
  teamSetPassword: (link: string, password: string) => call<TeamStatusView>('team_set_password', { link, password }),
  teamMfaStatus: () => call<MfaStatusView>('team_mfa_status'),
  teamBeginTotp: () => call<TotpEnrolmentView>('team_begin_totp'),
  /** Answers the recovery codes, shown this once. */
  teamConfirmTotp: (code: string, password: string) => call<string[]>('team_confirm_totp', { code, password }),
  teamRemoveMfa: (password: string) => call<void>('team_remove_mfa', { password }),
  /** Answers the new recovery codes, shown this once. */
  teamNewRecoveryCodes: (password: string) => call<string[]>('team_new_recovery_codes', { password }),
  teamResetMemberMfa: (userId: string) => call<void>('team_reset_member_mfa', { userId }),
  teamChangePassword: (current: string, next: string) => call<void>('team_change_password', { current, new: next }),
  teamTokens: () => call<TeamTokensView>('team_tokens'),
  copyTeamCode: (tokenId: string) => call<string>('copy_team_code', { tokenId }),
  teamInbox: () => call<TeamInboxView>('team_inbox'),
  teamKeepSeed: (tokenId: string) => call<void>('team_keep_seed', { tokenId }),
  teamForgetSeed: (tokenId: string) => call<void>('team_forget_seed', { tokenId }),
  teamAdminOverview: () => call<TeamAdminView>('team_admin_overview'),
  teamAddMember: (email: string, name: string, role: string, password: string) =>
    call<void>('team_add_member', { email, name, role, password }),
  teamInvite: (email: string, role: string) => call<OneTimeLink>('team_invite', { email, role }),
  teamDisableMember: (userId: string) => call<void>('team_disable_member', { userId }),
  teamEnableMember: (userId: string) => call<void>('team_enable_member', { userId }),
  teamSetMemberRole: (userId: string, role: string) => call<void>('team_set_member_role', { userId, role }),
  teamPasswordLink: (userId: string) => call<OneTimeLink>('team_password_link', { userId }),
  teamCreateGroup: (name: string) => call<void>('team_create_group', { name }),
  teamAddToGroup: (groupId: string, userId: string) => call<void>('team_add_to_group', { groupId, userId }),
  teamRemoveFromGroup: (groupId: string, userId: string) => call<void>('team_remove_from_group', { groupId, userId }),
  teamAddSharedToken: (uri: string) => call<string>('team_add_shared_token', { uri }),
  teamRotate: (tokenId: string, uri: string) => call<void>('team_rotate', { tokenId, uri }),
  teamGrant: (tokenId: string, grant: GrantForm) => call<void>('team_grant', { tokenId, grant }),
  teamRevokeGrant: (grantId: string) => call<void>('team_revoke_grant', { grantId }),
  teamAudit: (filter: AuditFilterForm) => call<AuditPageView>('team_audit', { filter }),
  teamExportAudit: (filter: AuditFilterForm, format: 'csv' | 'jsonl') => call<ExportedFile>('team_export_audit', { filter, format }),
  teamSinks: () => call<SinkRow[]>('team_sinks'),
  teamAddSink: (sink: SinkForm) => call<void>('team_add_sink', { sink }),
  teamRemoveSink: (sinkId: string) => call<void>('team_remove_sink', { sinkId }),
  teamResumeSink: (sinkId: string) => call<void>('team_resume_sink', { sinkId }),
  teamApiTokens: () => call<ApiTokenRow[]>('team_api_tokens'),
  teamCreateApiToken: (name: string, expiresAtMs: number | null) => call<CreatedApiTokenRow>('team_create_api_token', { name, expiresAtMs }),
  teamRevokeApiToken: (tokenId: string) => call<void>('team_revoke_api_token', { tokenId }),
  copySmsCode: (seq: number) => call<string>('copy_sms_code', { seq }),
};

/** Calls `handler` when the vault locks (on demand or after the idle period). */
export function onVaultLocked(handler: () => void): Promise<UnlistenFn> {
  return listen('vault-locked', handler).catch(() => () => {});
}

/** Applies a theme preference to the page ("system" follows the desktop). */
export function applyTheme(theme: SettingsView['theme']) {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

/** Calls `handler` whenever the 2FA directory was (re)loaded or an update failed. */
export function onDirectoryUpdated(handler: () => void): Promise<UnlistenFn> {
  return listen('directory-updated', handler).catch(() => () => {});
}

/** Calls `handler` when the clock-skew warning appears or goes away. */
export function onClockSkew(handler: () => void): Promise<UnlistenFn> {
  return listen('clock-skew', handler).catch(() => () => {});
}

/** Calls `handler` when an otpauth:// link was opened with Kaito while it runs. */
export function onOpenUri(handler: () => void): Promise<UnlistenFn> {
  return listen('open-uri', handler).catch(() => () => {});
}

/** Calls `handler` each time the global shortcut opens the quick-search palette. */
export function onPaletteOpened(handler: () => void): Promise<UnlistenFn> {
  return listen('palette-opened', handler).catch(() => () => {});
}

/** The shared SMS inbox changed: a message arrived or the stream opened or dropped. */
export function onTeamInbox(handler: () => void): Promise<UnlistenFn> {
  return listen('team-inbox', handler).catch(() => () => {});
}
