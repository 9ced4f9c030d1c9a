import { commands } from './ipc';
import type { ServiceView } from '../bindings/ServiceView';

/**
 * Searching tokens also asks the 2FA directory, so "does X support 2FA?" is one
 * search away. Only the latest search's answer is kept.
 */
export class DirectoryHits {
  hits = $state<ServiceView[]>([]);
  #asked: string | null = null;
  #seq = 0;

  /** Asks about `query`, unless it is the one last asked (the page coming back). */
  ask(query: string) {
    if (query === this.#asked) return;
    this.#asked = query;
    const q = query.trim();
    const seq = ++this.#seq;
    if (!q) {
      this.hits = [];
      return;
    }
    commands
      .directorySearch(q, 3)
      .then((hits) => {
        if (seq === this.#seq) this.hits = hits;
      })
      .catch(() => {});
  }
}
