// Shared by the UI's tests (never imported by the app): a token as the core lists it,
// and a stand-in for the core answering commands.
import type { Mock } from 'vitest';
import type { TokenView } from '../bindings/TokenView';

/** GitHub's TOTP token with a current and next code, 17 s left; `overrides` change any field. */
export function tokenView(overrides: Partial<TokenView> = {}): TokenView {
  return {
    id: '0190a0a0-0000-7000-8000-000000000001',
    issuer: 'GitHub',
    account: 'alice@example.com',
    kind: 'totp',
    algorithm: 'SHA1',
    digits: 6,
    group: null,
    favorite: false,
    code: { current: '123456', next: '654321', remainingSecs: 17, period: 30 },
    codeError: null,
    service: null,
    ...overrides,
  };
}

/** Makes the mocked `invoke` answer each command from `table`; any other command fails as the core would. */
export function answerCommands(invoke: Mock, table: Record<string, (args: Record<string, unknown>) => unknown>) {
  invoke.mockImplementation(async (command: string, args?: Record<string, unknown>) => {
    const reply = table[command];
    if (!reply) throw { code: 'test.unmocked', message: `command ${command} not mocked` };
    return reply(args ?? {});
  });
}
