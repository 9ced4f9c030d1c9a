import type { SmsView } from '../bindings/SmsView';

/** Texts received up to a minute before this run started (clocks differ) are still history. */
const CLOCK_SLACK_MS = 60_000;

/**
 * The Inbox tab's count: texts not yet seen that arrived while Kaito runs.
 * Texts from before this run are history, not news, and while the inbox is open
 * nothing is counted.
 */
export class InboxCount {
  #texts = $state<{ seq: number; receivedAtMs: number }[]>([]);
  #seenSeq = $state(0);
  readonly #startedMs: number;
  readonly #open: () => boolean;

  /** `open` says whether the inbox is on screen now (read reactively). */
  constructor(open: () => boolean, startedMs = Date.now()) {
    this.#open = open;
    this.#startedMs = startedMs - CLOCK_SLACK_MS;
  }

  /** The inbox as the core has it now, newest first. */
  receive(messages: readonly Pick<SmsView, 'seq' | 'receivedAtMs'>[]) {
    this.#texts = messages.map(({ seq, receivedAtMs }) => ({ seq, receivedAtMs }));
  }

  /** Everything received so far has been seen (the inbox is open). */
  markSeen() {
    this.#seenSeq = this.#texts[0]?.seq ?? 0;
  }

  get unread(): number {
    if (this.#open()) return 0;
    return this.#texts.filter((t) => t.seq > this.#seenSeq && t.receivedAtMs > this.#startedMs).length;
  }
}
