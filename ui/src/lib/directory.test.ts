import { describe, expect, it } from 'vitest';
import { relativeDay, statusLine } from './directory';
import type { DirectoryStatus } from '../bindings/DirectoryStatus';

const NOW = Date.UTC(2026, 10, 23, 12);
const base: DirectoryStatus = {
  services: 0,
  fetchedAtMs: null,
  dataDateMs: null,
  sourceUrl: 'https://api.2fa.directory/v4/all.json',
  updating: false,
  lastError: null,
  attribution: '2FA data from 2fa.directory',
};

describe('directory status line', () => {
  it('says plainly when nothing was downloaded yet, or that it is downloading', () => {
    expect(statusLine(base, NOW)).toBe('The 2FA directory has not been downloaded yet.');
    expect(statusLine({ ...base, updating: true }, NOW)).toBe('Downloading the 2FA directory…');
  });

  it('gives the size, the data date and when this device last checked', () => {
    const status = { ...base, services: 2566, dataDateMs: Date.UTC(2026, 7, 5), fetchedAtMs: NOW - 3 * 24 * 3600 * 1000 };
    expect(statusLine(status, NOW)).toBe('2,566 services · data of 2026-08-05 · checked 3 days ago');
    expect(statusLine({ ...status, updating: true }, NOW)).toContain('updating…');
  });

  it('words recent days naturally and falls back to a date', () => {
    expect(relativeDay(NOW - 1000, NOW)).toBe('today');
    expect(relativeDay(NOW - 25 * 3600 * 1000, NOW)).toBe('yesterday');
    expect(relativeDay(Date.UTC(2026, 0, 2), NOW)).toBe('2026-01-02');
  });
});
