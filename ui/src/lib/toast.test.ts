import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Toast } from './toast.svelte';

describe('Toast', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a message goes after 2.5 s; one offering an undo stays 8 s', () => {
    const toast = new Toast();
    toast.show('Copied 123 456');
    vi.advanceTimersByTime(2400);
    expect(toast.current?.text).toBe('Copied 123 456');
    vi.advanceTimersByTime(200);
    expect(toast.current).toBeNull();

    toast.show('Deleted GitHub', async () => {});
    vi.advanceTimersByTime(7900);
    expect(toast.current?.text).toBe('Deleted GitHub');
    vi.advanceTimersByTime(200);
    expect(toast.current).toBeNull();
  });

  it('a new message restarts the time, so an earlier timer cannot hide it', () => {
    const toast = new Toast();
    toast.show('first');
    vi.advanceTimersByTime(2000);
    toast.show('second');
    vi.advanceTimersByTime(2000);
    expect(toast.current?.text).toBe('second');
  });

  it('undo runs the offered action; a failed undo says why', async () => {
    const toast = new Toast();
    const action = vi.fn(async () => toast.dismiss());
    toast.show('Deleted GitHub', action);
    await toast.undo();
    expect(action).toHaveBeenCalledOnce();
    expect(toast.current).toBeNull();

    toast.show('Deleted GitLab', async () => {
      throw { code: 'vault.not_found', message: 'That token is gone for good.' };
    });
    await toast.undo();
    expect(toast.current).toEqual({ text: 'That token is gone for good.', undo: undefined });
    // Nothing on offer: nothing happens.
    await toast.undo();
    expect(toast.current?.text).toBe('That token is gone for good.');
  });
});
