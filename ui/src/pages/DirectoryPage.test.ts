import { describe, expect, it, vi, beforeEach } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) }));
vi.mock('@tauri-apps/api/event', () => ({ listen: async () => () => {} }));

import App from '../App.svelte';
import { answerCommands, tokenView } from '../test/fixtures';

const github = {
  name: 'github.com',
  domains: ['github.com'],
  methods: [
    { id: 'totp', label: 'TOTP' },
    { id: 'sms', label: 'SMS' },
  ],
  verdict: 'Supports 2FA via TOTP, SMS',
  supports2fa: true,
  customSoftware: [],
  customHardware: [],
  documentation: 'https://docs.github.com/2fa',
  recovery: null,
  notes: 'SMS is not available in every country.',
  regions: [],
  totpSuggestion: 'github.com supports authenticator codes (TOTP): switch from SMS to Kaito.',
};
const bakery = { ...github, name: 'bakery.example', domains: ['bakery.example'], methods: [], verdict: 'No 2FA — ask them', supports2fa: false, documentation: null, notes: null, totpSuggestion: null };
const status = {
  services: 2,
  fetchedAtMs: Date.now(),
  dataDateMs: Date.UTC(2026, 7, 5),
  sourceUrl: 'https://api.2fa.directory/v4/all.json',
  updating: false,
  lastError: null,
  attribution: '2FA data from 2fa.directory, MIT licence',
};

const token = tokenView({ service: { name: 'github.com', domain: 'github.com', verdict: 'Supports 2FA via TOTP, SMS' } });

const answer = (table: Record<string, (args: Record<string, unknown>) => unknown>) => answerCommands(invoke, table);

const base = {
  list_tokens: () => [token],
  app_info: () => ({ version: '1', dataDir: '/d' }),
  directory_status: () => status,
  directory_search: (args: Record<string, unknown>) =>
    String(args.query).toLowerCase().startsWith('bak') ? [bakery] : String(args.query) ? [github] : [github, bakery],
  directory_match: (args: Record<string, unknown>) => (args.issuer === 'GitHub' ? github : null),
};

describe('2FA directory in the app', () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it('searches, shows a plain verdict, and expands a service with notes and a docs link', async () => {
    answer(base);
    render(App);
    await fireEvent.click(await screen.findByTestId('nav-directory'));
    expect((await screen.findByTestId('directory-status')).textContent).toContain('2 services · data of 2026-08-05');
    expect(screen.getByTestId('directory-attribution').textContent).toContain('MIT');
    await fireEvent.input(screen.getByTestId('directory-search'), { target: { value: 'bak' } });
    await waitFor(() => expect(screen.getAllByTestId('directory-result-name').map((e) => e.textContent)).toEqual(['bakery.example']));
    // One result is opened straight away.
    expect((await screen.findByTestId('service-verdict')).textContent).toBe('No 2FA — ask them');

    await fireEvent.input(screen.getByTestId('directory-search'), { target: { value: 'githb' } });
    expect((await screen.findByTestId('service-notes')).textContent).toContain('not available in every country');
    expect(screen.getByTestId('totp-suggestion').textContent).toContain('switch from SMS');
    await fireEvent.click(screen.getByTestId('service-docs'));
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('open_link', { url: 'https://docs.github.com/2fa' }));
  });

  it('says what went wrong when an update fails, and keeps the cached data', async () => {
    answer({
      ...base,
      directory_refresh: () => {
        throw { code: 'directory.offline', message: 'Could not download the 2FA directory (connection refused). The cached copy stays in use.' };
      },
    });
    render(App);
    await fireEvent.click(await screen.findByTestId('nav-directory'));
    await fireEvent.click(await screen.findByTestId('directory-refresh'));
    expect((await screen.findByTestId('directory-error')).textContent).toContain('connection refused');
    expect(screen.getByTestId('directory-status').textContent).toContain('2 services');
  });

  it('shows the service on the token detail and directory hits while searching tokens', async () => {
    answer(base);
    render(App);
    await fireEvent.click(await screen.findByTestId('token-details'));
    const detail = await screen.findByTestId('token-detail');
    await waitFor(() => expect(detail.textContent).toContain('Supports 2FA via TOTP, SMS'));
    expect(detail.textContent).toContain('SMS is not available in every country.');
    await fireEvent.keyDown(detail, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByTestId('token-detail')).toBeNull());

    await fireEvent.input(screen.getByTestId('search'), { target: { value: 'bakery' } });
    expect((await screen.findByTestId('directory-hits')).textContent).toContain('bakery.example');
    expect(screen.getByTestId('directory-hits').textContent).toContain('No 2FA — ask them');
  });
});
