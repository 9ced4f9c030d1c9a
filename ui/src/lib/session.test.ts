import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

import { InboxCount } from './inbox.svelte';
import { TeamSession, type TeamPage } from './session.svelte';
import { answerCommands } from '../test/fixtures';

const now = Date.now();
const status = (role: string | null, linked = true) => ({
  linked,
  role,
  serverUrl: linked ? 'https://team.example' : null,
  email: null,
  name: null,
  teamName: null,
  pendingEvents: 0,
  lastSyncedAtMs: null,
});

function answer(inbox: () => unknown, teamStatus: () => unknown) {
  answerCommands(invoke, { team_inbox: inbox, team_status: teamStatus });
}

describe('TeamSession', () => {
  let gone: TeamPage[];
  let inbox: InboxCount;
  let team: TeamSession;
  beforeEach(() => {
    invoke.mockReset();
    gone = [];
    inbox = new InboxCount(() => false, now);
    team = new TeamSession(inbox);
  });

  it('a team owner gets both team tabs, and the inbox count hears of the texts', async () => {
    answer(
      () => ({ linked: true, live: true, problem: null, messages: [{ seq: 7, receivedAtMs: now + 5 }] }),
      () => status('owner'),
    );
    await team.refresh((page) => gone.push(page));
    expect([team.linked, team.admin]).toEqual([true, true]);
    expect(inbox.unread).toBe(1);
    expect(gone).toEqual([]);
  });

  it('a member has the inbox but not the Admin tab', async () => {
    answer(() => ({ linked: true, live: false, problem: null, messages: [] }), () => status('member'));
    await team.refresh((page) => gone.push(page));
    expect([team.linked, team.admin]).toEqual([true, false]);
    expect(gone).toEqual(['admin']);
  });

  it('signed out: neither team page stays', async () => {
    team.admin = true;
    answer(() => ({ linked: false, live: false, problem: null, messages: [] }), () => status(null, false));
    await team.refresh((page) => gone.push(page));
    expect([team.linked, team.admin]).toEqual([false, false]);
    expect(gone).toEqual(['inbox', 'admin']);
  });

  it('a core that cannot answer hides the inbox and closes no page', async () => {
    team.linked = true;
    answer(
      () => {
        throw { code: 'vault.locked', message: 'Kaito is locked.' };
      },
      () => status('owner'),
    );
    await team.refresh((page) => gone.push(page));
    expect(team.linked).toBe(false);
    expect(gone).toEqual([]);
  });
});
