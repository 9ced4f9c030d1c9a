import { describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor } from '@testing-library/svelte';

const invoke = vi.fn();
const handlers: Record<string, () => void> = {};
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) }));
vi.mock('@tauri-apps/api/event', () => ({
  listen: async (event: string, handler: () => void) => {
    handlers[event] = handler;
    return () => {};
  },
}));

import ClockWarning from './ClockWarning.svelte';

describe('ClockWarning', () => {
  it('shows the core’s warning, and hides it when the clock-skew event says it is gone', async () => {
    invoke.mockResolvedValue('Your clock is 3 minutes off: codes will be refused.');
    render(ClockWarning);
    expect((await screen.findByTestId('clock-warning')).textContent).toContain('3 minutes off');
    expect(screen.getByRole('alert')).toBeTruthy();

    invoke.mockResolvedValue(null);
    await waitFor(() => expect(handlers['clock-skew']).toBeDefined());
    handlers['clock-skew']!();
    await waitFor(() => expect(screen.queryByTestId('clock-warning')).toBeNull());
    expect(invoke).toHaveBeenCalledWith('clock_warning', undefined);
  });

  it('shows nothing when the core cannot say', async () => {
    invoke.mockRejectedValue({ code: 'ipc', message: 'no core' });
    render(ClockWarning);
    await waitFor(() => expect(invoke).toHaveBeenCalled());
    expect(screen.queryByTestId('clock-warning')).toBeNull();
  });
});
