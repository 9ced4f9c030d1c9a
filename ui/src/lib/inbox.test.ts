import { describe, expect, it } from 'vitest';
import { InboxCount } from './inbox.svelte';

const START = 1_800_000_000_000;
const text = (seq: number, receivedAtMs = START + 1000) => ({ seq, receivedAtMs });

describe('InboxCount', () => {
  it('counts texts that arrived while Kaito runs, not the history before it', () => {
    const count = new InboxCount(() => false, START);
    // Newest first, as the core sends them; a minute before the start is still "now" (clock slack).
    count.receive([text(4), text(3, START - 30_000), text(2, START - 61_000), text(1, START - 3_600_000)]);
    expect(count.unread).toBe(2);
  });

  it('counts nothing while the inbox is open', () => {
    let open = true;
    const count = new InboxCount(() => open, START);
    count.receive([text(2), text(1)]);
    expect(count.unread).toBe(0);
    open = false;
    expect(count.unread).toBe(2);
  });

  it('counts only texts newer than the ones seen', () => {
    const count = new InboxCount(() => false, START);
    count.receive([text(2), text(1)]);
    count.markSeen();
    expect(count.unread).toBe(0);
    count.receive([text(3), text(2), text(1)]);
    expect(count.unread).toBe(1);
  });

  it('an empty inbox has nothing unread, and seeing it forgets nothing later', () => {
    const count = new InboxCount(() => false, START);
    count.markSeen();
    expect(count.unread).toBe(0);
    count.receive([text(1)]);
    expect(count.unread).toBe(1);
  });
});
