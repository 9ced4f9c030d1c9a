import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

import { TokenList } from './tokens.svelte';
import type { TokenView } from '../bindings/TokenView';
import { tokenView } from '../test/fixtures';

const token = (id: string, issuer: string, group: string | null, remainingSecs = 17): TokenView =>
  tokenView({ id, issuer, group, code: { current: '123456', next: '654321', remainingSecs, period: 30 } });

describe('TokenList', () => {
  const events = { onopen: vi.fn(), onlocked: vi.fn() };
  beforeEach(() => {
    invoke.mockReset();
    events.onopen.mockReset();
    events.onlocked.mockReset();
  });

  it('lists each group once, sorted, and filters by group and search together', async () => {
    invoke.mockResolvedValue([token('1', 'GitHub', 'Work'), token('2', 'GitLab', null), token('3', 'Bank', 'Home'), token('4', 'Jira', 'Work')]);
    const list = new TokenList(events);
    await list.load();
    expect(list.loaded).toBe(true);
    expect(events.onopen).toHaveBeenCalledOnce();
    expect(list.groups).toEqual(['Home', 'Work']);
    list.query = 'git';
    expect(list.visible.map((t) => t.issuer)).toEqual(['GitHub', 'GitLab']);
    list.groupFilter = 'Work';
    expect(list.visible.map((t) => t.issuer)).toEqual(['GitHub']);
    list.query = '';
    expect(list.visible.map((t) => t.issuer)).toEqual(['GitHub', 'Jira']);
  });

  it('a locked vault is told to the shell, not shown as an error; other failures are', async () => {
    const list = new TokenList(events);
    invoke.mockRejectedValueOnce({ code: 'vault.locked', message: 'Kaito is locked.' });
    await list.load();
    expect(events.onlocked).toHaveBeenCalledOnce();
    expect(list.error).toBeNull();
    expect(list.loaded).toBe(true);

    invoke.mockRejectedValueOnce({ code: 'vault.keychain_unavailable', message: 'the system keychain is not available' });
    await list.load();
    expect(list.error?.code).toBe('vault.keychain_unavailable');
    expect(events.onopen).not.toHaveBeenCalled();

    invoke.mockResolvedValueOnce([]);
    await list.load();
    expect(list.error).toBeNull();
    expect(events.onopen).toHaveBeenCalledOnce();
  });

  it('asks again only when a code ran out, and one request at a time', async () => {
    invoke.mockResolvedValue([token('1', 'GitHub', null, 2)]);
    const list = new TokenList(events);
    await list.load();
    invoke.mockClear();
    list.tick(list.fetchedAt + 1000);
    expect(invoke).not.toHaveBeenCalled();
    list.tick(list.fetchedAt + 2000);
    list.tick(list.fetchedAt + 2250);
    expect(invoke).toHaveBeenCalledOnce();
    expect(invoke).toHaveBeenCalledWith('list_tokens', undefined);
  });

  it('forgets every token behind the lock, and drops a deleted one', async () => {
    invoke.mockResolvedValue([token('1', 'GitHub', null), token('2', 'GitLab', null)]);
    const list = new TokenList(events);
    await list.load();
    list.drop('1');
    expect(list.tokens.map((t) => t.id)).toEqual(['2']);
    list.forget();
    expect(list.tokens).toEqual([]);
  });
});
