import { describe, expect, it } from 'vitest';
import { codeSecondsLeft, groupCode, initial, matchesQuery, secondsLeft, someCodeExpired } from './format';

describe('groupCode', () => {
  it('splits codes in two readable halves', () => {
    expect(groupCode('123456')).toBe('123 456');
    expect(groupCode('12345678')).toBe('1234 5678');
    expect(groupCode('1234567')).toBe('123 4567');
  });
  it('leaves Steam codes whole', () => {
    expect(groupCode('2B7KQ')).toBe('2B7KQ');
  });
});

describe('secondsLeft', () => {
  it('counts down from the fetched value and stops at zero', () => {
    expect(secondsLeft(10, 1_000, 1_000)).toBe(10);
    expect(secondsLeft(10, 1_000, 3_999)).toBe(8);
    expect(secondsLeft(10, 1_000, 60_000)).toBe(0);
  });
  it('never counts up when the clock reading predates the fetch', () => {
    expect(secondsLeft(10, 1_000, 990)).toBe(10);
  });
});

describe('matchesQuery', () => {
  it('matches every word anywhere, ignoring case', () => {
    expect(matchesQuery('git ali', ['GitHub', 'alice@example.com', null])).toBe(true);
    expect(matchesQuery('work', ['GitHub', 'alice', 'Work'])).toBe(true);
    expect(matchesQuery('gitlab', ['GitHub', 'alice', null])).toBe(false);
    expect(matchesQuery('  ', ['anything'])).toBe(true);
  });
});

describe('initial', () => {
  it('takes the first letter or digit', () => {
    expect(initial('github')).toBe('G');
    expect(initial('  (1password)')).toBe('1');
    expect(initial('')).toBe('?');
  });
});

describe('codeSecondsLeft and someCodeExpired', () => {
  const at = 1_800_000_000_000;
  it('counts down a TOTP code and has no countdown for HOTP or a missing code', () => {
    expect(codeSecondsLeft({ remainingSecs: 5 }, at, at + 2500)).toBe(3);
    expect(codeSecondsLeft({ remainingSecs: null }, at, at + 2500)).toBeNull();
    expect(codeSecondsLeft(null, at, at)).toBeNull();
    expect(codeSecondsLeft(undefined, at, at)).toBeNull();
  });
  it('a list is due again once any countdown reaches zero, never for HOTP alone', () => {
    const list = [{ code: { remainingSecs: null } }, { code: null }, { code: { remainingSecs: 3 } }];
    expect(someCodeExpired(list, at, at + 2999)).toBe(false);
    expect(someCodeExpired(list, at, at + 3000)).toBe(true);
    expect(someCodeExpired(list.slice(0, 2), at, at + 60_000)).toBe(false);
    expect(someCodeExpired([], at, at)).toBe(false);
  });
});
