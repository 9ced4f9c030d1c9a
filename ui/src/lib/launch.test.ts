import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

import { launchLink, takeLaunchLink } from './launch';

describe('launch links', () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it('kaito:// in any case is a team invite; otpauth links add tokens', () => {
    expect(launchLink('kaito://join?server=https%3A%2F%2Fteam.example').kind).toBe('team');
    expect(launchLink('KAITO://join?code=x').kind).toBe('team');
    expect(launchLink('otpauth://totp/X?secret=JBSWY3DPEHPK3PXP')).toEqual({ kind: 'token', uri: 'otpauth://totp/X?secret=JBSWY3DPEHPK3PXP' });
    expect(launchLink('otpauth-migration://offline?data=abc').kind).toBe('token');
  });

  it('takes the waiting link from the core, or none', async () => {
    invoke.mockResolvedValueOnce('kaito://join?code=x');
    expect(await takeLaunchLink()).toEqual({ kind: 'team', uri: 'kaito://join?code=x' });
    expect(invoke).toHaveBeenCalledWith('take_launch_uri', undefined);
    invoke.mockResolvedValueOnce(null);
    expect(await takeLaunchLink()).toBeNull();
    invoke.mockRejectedValueOnce({ code: 'ipc', message: 'no core' });
    expect(await takeLaunchLink()).toBeNull();
  });
});
