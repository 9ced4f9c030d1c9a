// Where keyboard and drag moves land in the token list. Ids are in list order;
// "before" is the id a moved row is placed in front of, null for the end.

/** The row the arrow keys focus next: the first or last when none is focused, else one step, kept in the list. */
export function focusStep(current: number, delta: number, length: number): number {
  if (current === -1) return delta > 0 ? 0 : length - 1;
  return Math.min(length - 1, Math.max(0, current + delta));
}

/** Alt+Up/Down: where row `id` goes one place up or down; undefined at either end. */
export function stepBefore(ids: readonly string[], id: string, delta: number): string | null | undefined {
  const index = ids.indexOf(id);
  const target = index + delta;
  if (index < 0 || target < 0 || target >= ids.length) return undefined;
  return delta < 0 ? ids[target]! : (ids[target + 1] ?? null);
}

/** A drop on row `target` (null: below the rows) places in front of it, or after it when dropped on its lower half. */
export function dropBefore(ids: readonly string[], target: string | null, lowerHalf: boolean): string | null {
  if (target === null || !lowerHalf) return target;
  return ids[ids.indexOf(target) + 1] ?? null;
}
