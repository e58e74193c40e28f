import { expect, it } from 'bun:test';
import { createTokenCipher } from '../../src/auth/secrets.ts';
import { forEachBackend, seedPortal, testClock } from './backends.ts';

const pair = (n: number) => ({ accessToken: `access-${n}-${'a'.repeat(24)}`, refreshToken: `refresh-${n}-${'r'.repeat(24)}`, expiresAt: 1000 + n, scope: 'user' });
const app = { kind: 'app' } as const;
const user8 = { kind: 'user', userId: 8 } as const;

forEachBackend('token repository', (backend) => {
  it('seals tokens at rest: the columns hold ciphertext, find gives the plaintext back', async () => {
    const { store, db } = await backend.freshStore();
    const p = await seedPortal(store);
    const saved = await store.tokens.save(p.id, app, 7, pair(1));
    expect(saved).toMatchObject({ portalId: p.id, owner: app, userId: 7, ...pair(1), version: 1, dead: false, refreshLeaseUntil: null });
    const raw = JSON.stringify(await db.all('SELECT * FROM portal_tokens'));
    expect(raw).not.toContain(pair(1).accessToken);
    expect(raw).not.toContain(pair(1).refreshToken);
    expect(await store.tokens.find(p.id, app)).toEqual(saved);
  });

  it('keeps the app pair and each user pair apart, per portal', async () => {
    const { store } = await backend.freshStore();
    const p = await seedPortal(store);
    const q = await seedPortal(store, 'm2');
    await store.tokens.save(p.id, app, 7, pair(1));
    await store.tokens.save(p.id, user8, 8, pair(2));
    await store.tokens.save(q.id, user8, 8, pair(3));
    expect((await store.tokens.find(p.id, app))?.accessToken).toBe(pair(1).accessToken);
    expect((await store.tokens.find(p.id, user8))?.accessToken).toBe(pair(2).accessToken);
    expect((await store.tokens.find(q.id, user8))?.accessToken).toBe(pair(3).accessToken);
    expect(await store.tokens.find(q.id, app)).toBeNull();
    expect(await store.tokens.find(p.id, { kind: 'user', userId: 7 })).toBeNull();
    await store.tokens.deleteForPortal(p.id);
    expect(await store.tokens.find(p.id, app)).toBeNull();
    expect(await store.tokens.find(p.id, user8)).toBeNull();
    expect(await store.tokens.find(q.id, user8)).not.toBeNull();
  });

  it('save is unconditional: it bumps the version, clears dead and the lease, and may change the acting user', async () => {
    const { store } = await backend.freshStore();
    const p = await seedPortal(store);
    await store.tokens.save(p.id, app, 7, pair(1));
    await store.tokens.claimRefresh(p.id, app, 1, 500);
    await store.tokens.markDead(p.id, app, 2, { code: 'invalid_grant', at: 1000 });
    const again = await store.tokens.save(p.id, app, 8, pair(2));
    expect(again).toMatchObject({ userId: 8, ...pair(2), version: 3, dead: false, refusal: null, refreshLeaseUntil: null });
  });

  it('two saves of a new row at once leave one row', async () => {
    const { store, db } = await backend.freshStore();
    const p = await seedPortal(store);
    await Promise.all([store.tokens.save(p.id, user8, 8, pair(1)), store.tokens.save(p.id, user8, 8, pair(2))]);
    expect(await db.count('portal_tokens')).toBe(1);
    expect((await store.tokens.find(p.id, user8))?.version).toBe(2);
  });

  it('replaceIfVersion is a compare-and-swap on the version', async () => {
    const { store } = await backend.freshStore();
    const p = await seedPortal(store);
    await store.tokens.save(p.id, user8, 8, pair(1));
    expect(await store.tokens.replaceIfVersion(p.id, user8, 5, pair(9))).toBeNull();
    const swapped = await store.tokens.replaceIfVersion(p.id, user8, 1, pair(2));
    expect(swapped).toMatchObject({ ...pair(2), version: 2, dead: false, refreshLeaseUntil: null });
    expect(await store.tokens.replaceIfVersion(p.id, user8, 1, pair(3))).toBeNull();
    expect((await store.tokens.find(p.id, user8))?.accessToken).toBe(pair(2).accessToken);
    // Another owner's row at the same version is not touched.
    expect(await store.tokens.replaceIfVersion(p.id, app, 2, pair(4))).toBeNull();
  });

  it('markDead flags the row only if nobody replaced it meanwhile', async () => {
    const { store } = await backend.freshStore();
    const p = await seedPortal(store);
    await store.tokens.save(p.id, app, 7, pair(1));
    await store.tokens.save(p.id, app, 7, pair(2)); // version 2
    await store.tokens.markDead(p.id, app, 1, { code: 'invalid_grant', at: 1000 });
    expect(await store.tokens.find(p.id, app)).toMatchObject({ dead: false, refusal: null });
    await store.tokens.claimRefresh(p.id, app, 2, 900);
    await store.tokens.markDead(p.id, app, 3, { code: 'invalid_client', at: 1001 });
    expect(await store.tokens.find(p.id, app)).toMatchObject({ dead: true, refusal: { code: 'invalid_client', at: 1001 }, refreshLeaseUntil: null, version: 3 });
    // A new pair (a re-key, a refresh that won meanwhile) forgets why the old one died.
    expect(await store.tokens.replaceIfVersion(p.id, app, 3, pair(3))).toMatchObject({ dead: false, refusal: null, version: 4 });
  });

  it('claimRefresh: exactly one of several claims at one version wins; release gives the lease back', async () => {
    const { store } = await backend.freshStore();
    const p = await seedPortal(store);
    await store.tokens.save(p.id, app, 7, pair(1));
    const claims = await Promise.all(Array.from({ length: 6 }, () => store.tokens.claimRefresh(p.id, app, 1, 600)));
    const won = claims.filter((c) => c !== null);
    expect(won.length).toBe(1);
    expect(won[0]).toMatchObject({ version: 2, refreshLeaseUntil: 600 });
    await store.tokens.releaseRefresh(p.id, app, 1); // stale: nothing
    expect((await store.tokens.find(p.id, app))?.refreshLeaseUntil).toBe(600);
    await store.tokens.releaseRefresh(p.id, app, 2);
    expect(await store.tokens.find(p.id, app)).toMatchObject({ version: 3, refreshLeaseUntil: null, ...pair(1) });
    // A write of new tokens after a claim clears the lease.
    await store.tokens.claimRefresh(p.id, app, 3, 700);
    expect(await store.tokens.replaceIfVersion(p.id, app, 4, pair(2))).toMatchObject({ version: 5, refreshLeaseUntil: null });
  });

  it('keyMatches: true with no tokens or the right key, false when the tokens were sealed under another key', async () => {
    const clock = testClock();
    const { store, db } = await backend.freshStore({ clock });
    expect(await store.tokens.keyMatches()).toBe(true);
    const p = await seedPortal(store);
    await store.tokens.save(p.id, app, 7, pair(1));
    expect(await store.tokens.keyMatches()).toBe(true);
    const other = await db.open({ cipher: createTokenCipher('another-secret-0123456789abcdef0123456789') });
    expect(await other.tokens.keyMatches()).toBe(false);
    await expect(other.tokens.find(p.id, app)).rejects.toThrow();
  });
});
