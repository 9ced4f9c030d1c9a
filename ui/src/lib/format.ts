/** Groups a code for reading aloud: "123 456", "1234 5678", "123 4567"; Steam's 5 stay whole. */
export function groupCode(code: string): string {
  if (code.length < 6) return code;
  const split = Math.floor(code.length / 2);
  return `${code.slice(0, split)} ${code.slice(split)}`;
}

/** Seconds left at `nowMs`, given `remainingAtFetch` seconds when fetched at `fetchedAtMs`. */
export function secondsLeft(remainingAtFetch: number, fetchedAtMs: number, nowMs: number): number {
  // The tick clock can lag the fetch by a few ms; that must not add a second.
  const elapsed = Math.max(0, Math.floor((nowMs - fetchedAtMs) / 1000));
  return Math.max(0, remainingAtFetch - elapsed);
}

/** Seconds left on `code` at `nowMs`, or null when it has no countdown (HOTP, or no code at all). */
export function codeSecondsLeft(
  code: { remainingSecs: number | null } | null | undefined,
  fetchedAtMs: number,
  nowMs: number,
): number | null {
  return code?.remainingSecs != null ? secondsLeft(code.remainingSecs, fetchedAtMs, nowMs) : null;
}

/** Some listed code has run out at `nowMs`: the list is due to be asked for again. */
export function someCodeExpired(
  items: readonly { code: { remainingSecs: number | null } | null }[],
  fetchedAtMs: number,
  nowMs: number,
): boolean {
  return items.some((item) => codeSecondsLeft(item.code, fetchedAtMs, nowMs) === 0);
}

/** Case-insensitive match of every word of `query` against issuer, account and group. */
export function matchesQuery(query: string, fields: (string | null | undefined)[]): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const haystack = fields.filter(Boolean).join(' ').toLowerCase();
  return words.every((word) => haystack.includes(word));
}

/** First letter or digit of a name, for the avatar when no icon exists. */
export function initial(name: string): string {
  const match = name.match(/[\p{L}\p{N}]/u);
  return match ? match[0].toUpperCase() : '?';
}
