import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) }));
vi.mock('@tauri-apps/api/event', () => ({ listen: async () => () => {} }));

import TokensPage from './TokensPage.svelte';
import { TokenList } from '../lib/tokens.svelte';
import { DirectoryHits } from '../lib/directoryHits.svelte';
import { Toast } from '../lib/toast.svelte';
import type { TokenView } from '../bindings/TokenView';
import { answerCommands, tokenView } from '../test/fixtures';

const token = (n: number): TokenView =>
  tokenView({ id: `0190a0a0-0000-7000-8000-00000000000${n}`, issuer: ['Alpha', 'Bravo', 'Charlie'][n - 1]!, account: 'me' });
const [alpha, bravo, charlie] = [token(1), token(2), token(3)];

async function page() {
  answerCommands(invoke, {
    list_tokens: () => [alpha, bravo, charlie],
    copy_code: () => '123456',
    move_token: () => null,
    team_tokens: () => ({ linked: false, stale: false, problem: null, tokens: [] }),
  });
  const list = new TokenList({ onopen: () => {}, onlocked: () => {} });
  await list.load();
  const toast = new Toast();
  const view = render(TokensPage, {
    list,
    directory: new DirectoryHits(),
    toast,
    scroller: undefined,
    onadd: () => {},
    ondetails: () => {},
    onlookup: () => {},
  });
  await screen.findAllByTestId('token');
  return { list, toast, view };
}

const row = (t: TokenView) => document.querySelector<HTMLElement>(`[data-token-id="${t.id}"]`)!;
const copyButton = (t: TokenView) => row(t).querySelector<HTMLButtonElement>('button.copy')!;
const moves = () => invoke.mock.calls.filter(([command]) => command === 'move_token').map(([, args]) => args);

function dropOn(target: TokenView, half: 'upper' | 'lower') {
  vi.spyOn(row(target), 'getBoundingClientRect').mockReturnValue({ top: 100, height: 40, bottom: 140, left: 0, right: 0, width: 0, x: 0, y: 100, toJSON: () => ({}) });
  // jsdom has no DragEvent: a mouse event named drop carries the pointer's height.
  copyButton(target).dispatchEvent(new MouseEvent('drop', { bubbles: true, cancelable: true, clientY: half === 'upper' ? 110 : 130 }));
}

describe('TokensPage', () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it('a row dropped on the upper half of another goes in front of it, on the lower half after it', async () => {
    await page();
    await fireEvent.dragStart(row(charlie), { dataTransfer: { setData: () => {}, effectAllowed: '' } });
    dropOn(alpha, 'upper');
    await fireEvent.dragStart(row(alpha), { dataTransfer: { setData: () => {}, effectAllowed: '' } });
    dropOn(bravo, 'lower');
    await waitFor(() => expect(moves()).toHaveLength(2));
    expect(moves()).toEqual([
      { id: charlie.id, before: alpha.id },
      { id: alpha.id, before: charlie.id },
    ]);
  });

  it('a row dropped on itself, or a drop with nothing dragged, moves nothing', async () => {
    await page();
    await fireEvent.dragStart(row(bravo), { dataTransfer: { setData: () => {}, effectAllowed: '' } });
    dropOn(bravo, 'lower');
    dropOn(alpha, 'lower');
    expect(moves()).toEqual([]);
  });

  it('arrows focus the rows; Alt+Down moves the focused row and keeps its focus', async () => {
    const { view } = await page();
    view.component.keydown(new KeyboardEvent('keydown', { key: 'ArrowDown' }), false);
    await waitFor(() => expect(document.activeElement).toBe(copyButton(alpha)));
    view.component.keydown(new KeyboardEvent('keydown', { key: 'ArrowDown' }), false);
    await waitFor(() => expect(document.activeElement).toBe(copyButton(bravo)));
    view.component.keydown(new KeyboardEvent('keydown', { key: 'ArrowDown', altKey: true }), false);
    await waitFor(() => expect(moves()).toEqual([{ id: bravo.id, before: null }]));
    await waitFor(() => expect(document.activeElement).toBe(copyButton(bravo)));
  });

  it('Enter in the search copies the first match; elsewhere it does nothing', async () => {
    const { list, toast, view } = await page();
    list.query = 'bra';
    view.component.keydown(new KeyboardEvent('keydown', { key: 'Enter' }), false);
    expect(invoke).not.toHaveBeenCalledWith('copy_code', expect.anything());
    view.component.keydown(new KeyboardEvent('keydown', { key: 'Enter' }), true);
    await waitFor(() => expect(toast.current?.text).toBe('Copied 123 456 — Bravo'));
    expect(invoke).toHaveBeenCalledWith('copy_code', { id: bravo.id });
  });

  it('a long list renders only the rows in the scroller’s view, following its scroll', async () => {
    const many = Array.from({ length: 1000 }, (_, i) => tokenView({ id: `id-${i}`, issuer: `Service${String(i).padStart(4, '0')}` }));
    answerCommands(invoke, { list_tokens: () => many, team_tokens: () => ({ linked: false, stale: false, problem: null, tokens: [] }) });
    const list = new TokenList({ onopen: () => {}, onlocked: () => {} });
    await list.load();
    // jsdom has no layout: the scroller says where it is scrolled and how high it is.
    const scroller = document.createElement('main');
    let scrolled = 0;
    Object.defineProperty(scroller, 'scrollTop', { get: () => scrolled, set: (value: number) => (scrolled = value) });
    Object.defineProperty(scroller, 'clientHeight', { value: 720 });
    render(TokensPage, { list, directory: new DirectoryHits(), toast: new Toast(), scroller, onadd: () => {}, ondetails: () => {}, onlookup: () => {} });
    const issuers = () => screen.getAllByTestId('token-issuer').map((e) => e.textContent?.trim());
    await waitFor(() => expect(issuers()).toContain('Service0000'));
    expect(issuers().length).toBeLessThan(60);
    expect(screen.getByTestId('token-list').dataset.total).toBe('1000');

    scrolled = 72 * 900;
    scroller.dispatchEvent(new Event('scroll'));
    await waitFor(() => expect(issuers()).toContain('Service0905'));
    expect(issuers()).not.toContain('Service0000');
  });
});

