import { invoke } from '@tauri-apps/api/core';
import type { IpcError } from '../bindings/IpcError';
import type { AppInfo } from '../bindings/AppInfo';

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
};
