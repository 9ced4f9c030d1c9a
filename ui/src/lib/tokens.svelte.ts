import { commands, type KaitoError } from './ipc';
import { matchesQuery, someCodeExpired } from './format';
import type { TokenView } from '../bindings/TokenView';

/** What a load learns about the vault, for the shell's lock screen. */
export type VaultEvents = { onopen: () => void; onlocked: () => void };

/**
 * The personal tokens as the core last listed them, with the search and group filter
 * over them. It outlives the Tokens page: a visit to Settings keeps the list, the
 * search and the filter, and the codes keep being refreshed.
 */
export class TokenList {
  tokens = $state<TokenView[]>([]);
  /** The first answer came: an empty list is then really empty. */
  loaded = $state(false);
  /** Why the vault cannot be read (locked is no error: the lock screen shows instead). */
  error = $state<KaitoError | null>(null);
  /** When the codes were fetched, and the clock their countdowns run on. */
  fetchedAt = $state(Date.now());
  now = $state(Date.now());
  query = $state('');
  groupFilter = $state<string | null>(null);
  /** Shared team tokens listed with these: an empty personal list then needs one line, not a splash. */
  sharedCount = $state(0);
  groups = $derived(
    [...new Set(this.tokens.map((t) => t.group).filter((g): g is string => !!g))].sort((a, b) => a.localeCompare(b)),
  );
  visible = $derived(
    this.tokens.filter(
      (t) => (this.groupFilter === null || t.group === this.groupFilter) && matchesQuery(this.query, [t.issuer, t.account, t.group]),
    ),
  );
  #loading = false;
  readonly #vault: VaultEvents;

  constructor(vault: VaultEvents) {
    this.#vault = vault;
  }

  /** Asks the core for the list again (one request at a time). */
  async load() {
    if (this.#loading) return;
    this.#loading = true;
    try {
      this.tokens = await commands.listTokens();
      this.fetchedAt = Date.now();
      this.error = null;
      this.#vault.onopen();
    } catch (error) {
      const failure = error as KaitoError;
      if (failure.code === 'vault.locked') {
        this.#vault.onlocked();
      } else {
        this.error = failure;
      }
    } finally {
      this.loaded = true;
      this.#loading = false;
    }
  }

  /**
   * The clock's tick (every 250 ms). Codes come from Rust once per period: the
   * countdown runs locally and the list is asked again only when some token's period ended.
   */
  tick(now = Date.now()) {
    this.now = now;
    if (someCodeExpired(this.tokens, this.fetchedAt, now)) this.load();
  }

  /** Nothing derived from a seed stays on screen behind the lock. */
  forget() {
    this.tokens = [];
  }

  /** Takes a deleted token off the list without asking the core again. */
  drop(id: string) {
    this.tokens = this.tokens.filter((t) => t.id !== id);
  }
}
