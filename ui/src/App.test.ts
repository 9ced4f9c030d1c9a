import { describe, expect, it, vi, beforeEach } from 'vitest';
import { render, screen } from '@testing-library/svelte';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

import App from './App.svelte';

describe('App shell', () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it('shows the empty state and the version and data directory from Rust', async () => {
    invoke.mockResolvedValue({ version: '9.8.7', dataDir: '/tmp/kaito-data' });
    render(App);
    expect(screen.getByTestId('empty-state').textContent).toContain('No tokens yet — add one');
    expect(await screen.findByText(/Kaito v9\.8\.7/)).toBeTruthy();
    expect(screen.getByTestId('app-info').textContent).toContain('/tmp/kaito-data');
    expect(invoke).toHaveBeenCalledWith('app_info', undefined);
  });

  it('explains when the Rust side fails', async () => {
    invoke.mockImplementation(async () => {
      throw { code: 'data_dir', message: 'cannot create the data directory' };
    });
    render(App);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('cannot create the data directory');
  });
});
