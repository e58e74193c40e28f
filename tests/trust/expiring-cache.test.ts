import { describe, expect, it } from 'bun:test';
import { ExpiringCache } from '../../src/auth/expiring-cache.ts';

/** What the auth layer remembers briefly: nothing may be answered past its time, and memory stays bounded. */
describe('ExpiringCache', () => {
  const clocked = (max = 3) => {
    let t = 100;
    const cache = new ExpiringCache<string>(max, () => t);
    return { cache, advance: (s: number) => (t += s) };
  };

  it('answers until the given instant and not at it; peek still tells what was known after', () => {
    const { cache, advance } = clocked();
    cache.set('a', 'x', 110);
    advance(9);
    expect(cache.get('a')).toBe('x');
    advance(1);
    expect(cache.get('a')).toBeUndefined();
    // A subscription read that fails keeps the code the last answer gave (billing.ts).
    expect(cache.peek('a')).toBe('x');
    expect(cache.peek('never')).toBeUndefined();
  });

  it('stores nothing for an instant already past, and such a set replaces what was there', () => {
    const { cache } = clocked();
    cache.set('a', 'x', 200);
    expect(cache.set('a', 'stale', 100)).toBe('stale');
    expect(cache.get('a')).toBeUndefined();
  });

  it('keeps at most maxEntries: the oldest written goes first', () => {
    const { cache } = clocked(3);
    for (const k of ['a', 'b', 'c']) cache.set(k, k, 1000);
    cache.set('a', 'a2', 1000); // rewritten: now the newest
    cache.set('d', 'd', 1000);
    expect(['a', 'b', 'c', 'd'].map((k) => cache.get(k) ?? null)).toEqual(['a2', null, 'c', 'd']);
  });

  it('deleteWhere drops exactly the matching entries', () => {
    const { cache } = clocked(10);
    cache.set('1', 'portal-1', 1000);
    cache.set('2', 'portal-2', 1000);
    cache.set('3', 'portal-1', 1000);
    expect(cache.deleteWhere((v) => v === 'portal-1')).toBe(2);
    expect([cache.get('1'), cache.get('2'), cache.get('3')]).toEqual([undefined, 'portal-2', undefined]);
  });
});
