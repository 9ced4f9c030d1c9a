import type { KaitoError } from './ipc';

/** The one short message at the foot of the window, maybe offering an undo. */
export type ToastMessage = { text: string; undo?: () => Promise<void> };

export class Toast {
  current = $state<ToastMessage | null>(null);
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Shows `text` for 2.5 s; one that offers an undo stays 8 s, time to change one's mind. */
  show(text: string, undo?: () => Promise<void>) {
    this.current = { text, undo };
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => (this.current = null), undo ? 8000 : 2500);
  }

  dismiss() {
    this.current = null;
  }

  /** Runs the undo on offer; if it fails, the failure is the message. */
  async undo() {
    const action = this.current?.undo;
    if (!action) return;
    try {
      await action();
    } catch (error) {
      this.show((error as KaitoError).message);
    }
  }
}
