/**
 * Random identifiers shaped like the ones Bitrix24 hands out, so an app that stores or validates them
 * (length, alphabet) sees realistic values.
 */

/** `bytes` random bytes as lower-case hex (member_id, APP_SID and application_token are 32 hex chars). */
export function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Access and refresh tokens: opaque hex; real ones are 70 characters long. */
export function createTokenString(): string {
  return randomHex(35);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
