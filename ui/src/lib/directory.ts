import type { DirectoryStatus } from '../bindings/DirectoryStatus';

const DAY = 24 * 3600 * 1000;

/** "today", "yesterday", "3 days ago", or a date for anything older than a month. */
export function relativeDay(ms: number, now: number): string {
  const days = Math.floor((now - ms) / DAY);
  if (days <= 0) return 'today';
  if (days === 1) return 'yesterday';
  if (days < 31) return `${days} days ago`;
  return new Date(ms).toISOString().slice(0, 10);
}

/** The status line under the directory search, e.g. "2,566 services · data of 2026-08-05 · updated today". */
export function statusLine(status: DirectoryStatus, now: number): string {
  if (status.services === 0) {
    return status.updating ? 'Downloading the 2FA directory…' : 'The 2FA directory has not been downloaded yet.';
  }
  const parts = [`${status.services.toLocaleString('en-US')} services`];
  if (status.dataDateMs != null) parts.push(`data of ${new Date(status.dataDateMs).toISOString().slice(0, 10)}`);
  if (status.fetchedAtMs != null) parts.push(`checked ${relativeDay(status.fetchedAtMs, now)}`);
  if (status.updating) parts.push('updating…');
  return parts.join(' · ');
}
