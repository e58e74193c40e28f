/**
 * Secrets the app must never store in the clear.
 *
 * Hashing: secrets that arrive from outside (session tokens, application tokens, OAuth state nonces)
 * are stored only as SHA-256 digests, compared in constant time.
 *
 * Encryption at rest for OAuth tokens: AES-256-GCM under a key derived from APP_SECRET with HKDF.
 * Stored form: base64(version byte || 12-byte IV || ciphertext+tag). A ciphertext made under another
 * key fails authentication, so `verifyKey` can tell at start-up that APP_SECRET changed instead of
 * every refresh failing later.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TokenCipher } from '../store/store.ts';

/** SHA-256 of the text's UTF-8 bytes, as hex: Bun's one-shot hasher (every request hashes its session token). */
export const sha256Hex = (value: string): string => Bun.SHA256.hash(value, 'hex');

/** 256 random bits, URL-safe. */
export const randomToken = (): string => randomBytes(32).toString('base64url');

/** Constant-time check of a presented secret against a stored SHA-256 hex digest. */
export function matchesHash(presented: string, storedHash: string | null): boolean {
  const expected = Buffer.from(storedHash ?? '0'.repeat(64), 'hex');
  const actual = Buffer.from(sha256Hex(presented), 'hex');
  // Compare even when nothing is stored, so timing does not tell "unknown" from "wrong".
  return timingSafeEqual(expected.length === 32 ? expected : Buffer.alloc(32), actual) && storedHash !== null;
}

export type { TokenCipher };

const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function deriveKey(appSecret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', appSecret, 'b24app', purpose, 32));
}

export function createTokenCipher(appSecret: string): TokenCipher {
  const key = deriveKey(appSecret, 'oauth-token-encryption-v1');
  return {
    encrypt(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return Buffer.concat([Buffer.from([FORMAT_VERSION]), iv, body]).toString('base64');
    },
    decrypt(stored) {
      const raw = Buffer.from(stored, 'base64');
      if (raw.length < 1 + IV_BYTES + TAG_BYTES || raw[0] !== FORMAT_VERSION) throw new Error('unrecognised ciphertext');
      const iv = raw.subarray(1, 1 + IV_BYTES);
      const tag = raw.subarray(raw.length - TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    },
  };
}
