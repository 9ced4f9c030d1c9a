import { commands } from './ipc';
import type { InboxCount } from './inbox.svelte';

/** The pages only a team member (the inbox) or a team admin (admin) has. */
export type TeamPage = 'inbox' | 'admin';

/** The team sign-in as the shell needs it: which team tabs show. */
export class TeamSession {
  /** Signed in to a team: the Inbox tab shows. */
  linked = $state(false);
  /** A team admin or owner: the Admin tab shows (the server checks again). */
  admin = $state(false);
  readonly #inbox: InboxCount;

  constructor(inbox: InboxCount) {
    this.#inbox = inbox;
  }

  /**
   * Asks the core again, handing the texts to the inbox count. `gone` hears of each
   * team page that is no longer allowed, so the shell can leave it.
   */
  async refresh(gone: (page: TeamPage) => void) {
    try {
      const inbox = await commands.teamInbox();
      this.linked = inbox.linked;
      this.#inbox.receive(inbox.messages);
      if (!inbox.linked) gone('inbox');
      const status = await commands.teamStatus();
      this.admin = status.linked && (status.role === 'admin' || status.role === 'owner');
      if (!this.admin) gone('admin');
    } catch {
      this.linked = false;
    }
  }
}
