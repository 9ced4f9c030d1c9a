/** Every token row is this tall (CSS pins it), so the list can be windowed by arithmetic. */
export const ROW_HEIGHT = 72;
/** Lists up to this size render whole; longer ones render only what is on screen. */
export const WINDOW_FROM = 60;

export interface RowWindow {
  start: number;
  end: number;
  padTop: number;
  padBottom: number;
}

/**
 * Which rows to render for a list of `count` rows scrolled by `scrollTop` (from the
 * list's own top) in a viewport `viewport` px high, with `overscan` spare rows each
 * side so fast scrolling shows no gaps.
 */
export function rowWindow(count: number, scrollTop: number, viewport: number, rowHeight = ROW_HEIGHT, overscan = 8): RowWindow {
  if (count <= 0) return { start: 0, end: 0, padTop: 0, padBottom: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const shown = Math.ceil(Math.max(viewport, rowHeight) / rowHeight);
  const start = Math.min(Math.max(0, first - overscan), count);
  const end = Math.min(count, first + shown + overscan);
  return { start, end, padTop: start * rowHeight, padBottom: (count - end) * rowHeight };
}

/** The scrollTop that brings row `index` fully into view, or null when it already is. */
export function scrollToShow(index: number, scrollTop: number, viewport: number, rowHeight = ROW_HEIGHT): number | null {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewport) return bottom - viewport;
  return null;
}
