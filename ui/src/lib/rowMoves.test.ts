import { describe, expect, it } from 'vitest';
import { dropBefore, focusStep, stepBefore } from './rowMoves';

const ids = ['a', 'b', 'c'];

describe('focusStep', () => {
  it('starts at the top going down and at the bottom going up', () => {
    expect(focusStep(-1, 1, 3)).toBe(0);
    expect(focusStep(-1, -1, 3)).toBe(2);
  });
  it('moves one step and stops at either end', () => {
    expect(focusStep(0, 1, 3)).toBe(1);
    expect(focusStep(2, 1, 3)).toBe(2);
    expect(focusStep(0, -1, 3)).toBe(0);
  });
});

describe('stepBefore', () => {
  it('one place down goes in front of the row after the next, or to the end', () => {
    expect(stepBefore(ids, 'a', 1)).toBe('c');
    expect(stepBefore(ids, 'b', 1)).toBeNull();
  });
  it('one place up goes in front of the row above', () => {
    expect(stepBefore(ids, 'c', -1)).toBe('b');
    expect(stepBefore(ids, 'b', -1)).toBe('a');
  });
  it('does not move past either end, nor a row not in the list', () => {
    expect(stepBefore(ids, 'a', -1)).toBeUndefined();
    expect(stepBefore(ids, 'c', 1)).toBeUndefined();
    expect(stepBefore(ids, 'x', 1)).toBeUndefined();
  });
});

describe('dropBefore', () => {
  it('the upper half of a row places in front of it, the lower half after it', () => {
    expect(dropBefore(ids, 'b', false)).toBe('b');
    expect(dropBefore(ids, 'b', true)).toBe('c');
    expect(dropBefore(ids, 'c', true)).toBeNull();
  });
  it('below the rows is the end', () => {
    expect(dropBefore(ids, null, false)).toBeNull();
    expect(dropBefore(ids, null, true)).toBeNull();
  });
});
