import { describe, expect, it } from 'vitest';
import { KaitoError, toKaitoError } from './ipc';

describe('toKaitoError', () => {
  it('keeps the code and message of a Rust IpcError', () => {
    const error = toKaitoError({ code: 'vault_locked', message: 'Unlock Kaito first.' });
    expect(error).toBeInstanceOf(KaitoError);
    expect(error.code).toBe('vault_locked');
    expect(error.message).toBe('Unlock Kaito first.');
  });

  it('wraps the plain strings Tauri rejects with', () => {
    const error = toKaitoError('command app_infx not found');
    expect(error.code).toBe('ipc');
    expect(error.message).toBe('command app_infx not found');
  });

  it('never produces an empty message', () => {
    expect(toKaitoError('').message).toBe('The app did not answer.');
    expect(toKaitoError(undefined).message).toBe('undefined');
  });
});
