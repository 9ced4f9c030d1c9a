import { describe, expect, it, vi, beforeEach } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

import App from './App.svelte';
import { answerCommands, tokenView } from './test/fixtures';

const github = tokenView({ group: 'Work' });
const gitlab = tokenView({ id: '0190a0a0-0000-7000-8000-000000000002', issuer: 'GitLab' });
const answer = (table: Record<string, () => unknown>) => answerCommands(invoke, table);

describe('App', () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it('shows the empty state and the version and data directory from Rust', async () => {
    answer({ list_tokens: () => [], app_info: () => ({ version: '9.8.7', dataDir: '/tmp/kaito-data' }) });
    render(App);
    expect((await screen.findByTestId('empty-state')).textContent).toContain('No tokens yet — add one');
    expect(await screen.findByText(/Kaito v9\.8\.7/)).toBeTruthy();
    expect(screen.getByTestId('app-info').textContent).toContain('/tmp/kaito-data');
  });

  it('lists tokens with grouped codes, the next code and a countdown', async () => {
    answer({ list_tokens: () => [github], app_info: () => ({ version: '1', dataDir: '/d' }) });
    render(App);
    expect((await screen.findByTestId('token-code')).textContent).toBe('123 456');
    expect(screen.getByTestId('token-next').textContent).toBe('next 654 321');
    // Inside the row's button, so queried by label rather than role (button children are presentational).
    expect(document.querySelector('svg[aria-label="17 seconds left"]')).not.toBeNull();
  });

  it('filters by issuer, account or group as you type', async () => {
    answer({ list_tokens: () => [github, gitlab], app_info: () => ({ version: '1', dataDir: '/d' }) });
    render(App);
    expect(await screen.findAllByTestId('token')).toHaveLength(2);
    await fireEvent.input(screen.getByTestId('search'), { target: { value: 'work' } });
    const rows = screen.getAllByTestId('token-issuer').map((el) => el.textContent);
    expect(rows).toEqual(['GitHub']);
    await fireEvent.input(screen.getByTestId('search'), { target: { value: 'bitbucket' } });
    expect(screen.getByTestId('no-matches').textContent).toContain('bitbucket');
  });

  it('explains why the vault cannot open instead of showing an empty list', async () => {
    answer({
      list_tokens: () => {
        throw { code: 'vault.keychain_unavailable', message: 'the system keychain is not available' };
      },
      app_info: () => {
        throw { code: 'data_dir', message: 'cannot create the data directory' };
      },
    });
    render(App);
    const error = await screen.findByTestId('vault-error');
    expect(error.textContent).toContain('the system keychain is not available');
    expect(error.textContent).toContain('vault.keychain_unavailable');
    expect(screen.queryByTestId('empty-state')).toBeNull();
    expect((await screen.findByText(/cannot create the data directory/)).textContent).toContain('Could not reach');
  });

  it('counts a new text on the Inbox tab until the inbox is opened; the Admin tab is for owners', async () => {
    const text = { seq: 9, receivedAtMs: Date.now(), body: 'Your code is 123456', code: '123456', from: '+15550100', numberId: 'n1', numberLabel: 'Support' };
    answer({
      list_tokens: () => [],
      app_info: () => ({ version: '1', dataDir: '/d' }),
      team_inbox: () => ({ linked: true, live: true, problem: null, messages: [text] }),
      team_status: () => ({ linked: true, role: 'member', serverUrl: 'https://team.example', email: null, name: null, teamName: 'Acme', pendingEvents: 0, lastSyncedAtMs: null }),
    });
    render(App);
    expect((await screen.findByTestId('inbox-unread')).textContent).toBe('1');
    expect(screen.queryByTestId('nav-admin')).toBeNull();
    await fireEvent.click(screen.getByTestId('nav-inbox'));
    expect(screen.queryByTestId('inbox-unread')).toBeNull();
    await fireEvent.click(screen.getByTestId('nav-tokens'));
    expect(screen.queryByTestId('inbox-unread')).toBeNull();
  });
});

