/**
 * Hashing and comparing secrets that arrive from outside (session tokens, application tokens,
 * OAuth state nonces): only SHA-256 digests are stored, and digests are compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

/** 256 random bits, URL-safe. */
export const randomToken = (): string => randomBytes(32).toString('base64url');

/** Constant-time check of a presented secret against a stored SHA-256 hex digest. */
export function matchesHash(presented: string, storedHash: string | null): boolean {
  const expected = Buffer.from(storedHash ?? '0'.repeat(64), 'hex');
  const actual = Buffer.from(sha256Hex(presented), 'hex');
  // Compare even when nothing is stored, so timing does not tell "unknown" from "wrong".
  return timingSafeEqual(expected.length === 32 ? expected : Buffer.alloc(32), actual) && storedHash !== null;
}
