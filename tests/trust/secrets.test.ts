/**
 * The digests the store keeps instead of secrets (session tokens, application tokens, OAuth states):
 * SHA-256 of the text's UTF-8 bytes, in hex. Rows written by any earlier version hold these digests,
 * so the function must keep giving exactly them.
 */
import { describe, expect, it } from 'bun:test';
import { createHash } from 'node:crypto';
import { matchesHash, sha256Hex } from '../../src/auth/secrets.ts';

describe('sha256Hex', () => {
  it('gives the standard digests, of the UTF-8 bytes', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    for (const text of ['Квартальный план ёЁ', 't0VtooSHzSUXTryv6OENX-WGWbu2pXftAK2J0_PL2Rg', '😀\u0000x']) {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'));
    }
  });

  it('matches a presented secret against its stored digest, and nothing against no digest', () => {
    const stored = sha256Hex('a-presented-secret');
    expect(matchesHash('a-presented-secret', stored)).toBe(true);
    expect(matchesHash('another-secret', stored)).toBe(false);
    expect(matchesHash('a-presented-secret', null)).toBe(false);
  });
});
