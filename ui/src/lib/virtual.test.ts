import { describe, expect, it } from 'vitest';
import { rowWindow, scrollToShow } from './virtual';

describe('row windowing', () => {
  it('renders only the rows on screen plus a margin, and pads for the rest', () => {
    const w = rowWindow(1000, 7200, 720, 72, 8);
    // Rows 100–109 are on screen; 8 spare each side.
    expect(w).toEqual({ start: 92, end: 118, padTop: 92 * 72, padBottom: (1000 - 118) * 72 });
    expect(w.end - w.start).toBeLessThan(30);
  });

  it('clamps at both ends and handles tiny lists', () => {
    expect(rowWindow(1000, 0, 720, 72, 8)).toMatchObject({ start: 0, end: 18, padTop: 0 });
    const bottom = rowWindow(1000, 1000 * 72, 720, 72, 8);
    expect(bottom.end).toBe(1000);
    expect(bottom.padBottom).toBe(0);
    expect(rowWindow(3, 0, 720)).toMatchObject({ start: 0, end: 3, padTop: 0, padBottom: 0 });
    expect(rowWindow(0, 0, 720)).toEqual({ start: 0, end: 0, padTop: 0, padBottom: 0 });
  });

  it('scrolls just enough to show a row that keyboard focus moves to', () => {
    expect(scrollToShow(5, 0, 720, 72)).toBeNull();
    expect(scrollToShow(10, 0, 720, 72)).toBe(11 * 72 - 720);
    expect(scrollToShow(2, 500, 720, 72)).toBe(144);
  });
});
