/**
 * Encryption at rest for OAuth tokens: AES-256-GCM under a key derived from APP_SECRET with HKDF.
 * Stored form: base64(version byte || 12-byte IV || ciphertext+tag). A ciphertext made under another
 * key fails authentication, so `verifyKey` can tell at start-up that APP_SECRET changed instead of
 * every refresh failing later.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { TokenCipher } from '../store/store.ts';

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
