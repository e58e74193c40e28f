// Sessions (src/auth/sessions.ts) over the store, on both backends; then the session, user and OAuth
// state repositories themselves.
import { expect, it } from 'bun:test';
import { createSessions } from '../../src/auth/sessions.ts';
import { forEachBackend, seedPortal, type Backend } from './backends.ts';

forEachBackend('sessions', (backend) => {
  async function setup() {
    const { store } = await backend.freshStore();
    const portal = await store.portals.upsert(
      { memberId: 'm', domain: 'p.example', clientEndpoint: 'https://p.example/rest/', serverEndpoint: 'https://oauth.bitrix.info/rest/', appStatus: 'L', scope: '' },
      'installed',
    );
    await store.users.upsert(portal.id, 7, { name: 'U', isAdmin: false, lang: 'en', photoUrl: null, timeZone: null });
    await store.users.upsert(portal.id, 8, { name: 'V', isAdmin: false, lang: 'en', photoUrl: null, timeZone: null });
    let clock = 1_000_000;
    const sessions = createSessions(store, { idleTtl: 100, absoluteTtl: 250, touchEvery: 10, maxPerUser: 3 }, () => clock);
    return { store, sessions, actor: { portalId: portal.id, userId: 7 }, advance: (s: number) => (clock += s) };
  }

  it('issues 256-bit random tokens bound to (portal, user)', async () => {
    const { sessions, actor } = await setup();
    const a = await sessions.issue(actor);
    const b = await sessions.issue(actor);
    expect(Buffer.from(a.token, 'base64url').length).toBe(32);
    expect(a.token).not.toBe(b.token);
    expect(await sessions.verify(a.token)).toMatchObject(actor);
  });

  it('slides the idle expiry with use, but never past the absolute bound', async () => {
    const { sessions, actor, advance } = await setup();
    const { token } = await sessions.issue(actor);
    for (let i = 0; i < 4; i++) {
      advance(60); // each use within the idle window keeps it alive
      expect(await sessions.verify(token)).not.toBeNull();
    }
    advance(60); // 300 s after creation: past the absolute 250 s
    expect(await sessions.verify(token)).toBeNull();
  });

  it('expires after the idle lifetime without use', async () => {
    const { sessions, actor, advance } = await setup();
    const { token } = await sessions.issue(actor);
    advance(101);
    expect(await sessions.verify(token)).toBeNull();
  });

  it('writes the sliding expiry at most once per touch interval', async () => {
    const { store, sessions, actor, advance } = await setup();
    const { token } = await sessions.issue(actor);
    const hash = new Bun.CryptoHasher('sha256').update(token).digest('hex');
    const expiresBefore = (await store.sessions.find(hash))!.expiresAt;
    advance(5);
    await sessions.verify(token);
    expect((await store.sessions.find(hash))!.expiresAt).toBe(expiresBefore);
    advance(10);
    await sessions.verify(token);
    expect((await store.sessions.find(hash))!.expiresAt).toBe(expiresBefore + 15);
  });

  it('sweeps expired sessions that were never presented again', async () => {
    const { store, sessions, actor, advance } = await setup();
    const { token: abandoned } = await sessions.issue(actor);
    advance(700); // past the idle lifetime and the sweep interval
    await sessions.issue(actor);
    const hash = new Bun.CryptoHasher('sha256').update(abandoned).digest('hex');
    expect(await store.sessions.find(hash)).toBeNull();
  });

  it("keeps at most maxPerUser live sessions per user: one token cannot mint without bound, and others' are untouched", async () => {
    const { sessions, actor, advance } = await setup();
    const other = await sessions.issue({ ...actor, userId: 8 });
    const issued = [];
    for (let i = 0; i < 5; i++) {
      issued.push((await sessions.issue(actor)).token);
      advance(1);
    }
    const alive = [];
    for (const t of issued) alive.push((await sessions.verify(t)) !== null);
    expect(alive).toEqual([false, false, true, true, true]);
    expect(await sessions.verify(other.token)).not.toBeNull();
  });

  it('revokes', async () => {
    const { sessions, actor } = await setup();
    const { token } = await sessions.issue(actor);
    await sessions.revoke(token);
    expect(await sessions.verify(token)).toBeNull();
  });

  it('the repository: find, touch, delete, deleteForPortal, deleteExpired (how many)', async () => {
    const { store } = await backend.freshStore();
    const p = await seedPortal(store);
    const q = await seedPortal(store, 'm2');
    const s = (portalId: number, userId: number, expiresAt: number) => ({ portalId, userId, createdAt: 1, expiresAt, absoluteExpiresAt: 9_000, lastUsedAt: 1 });
    await store.sessions.create('a', s(p.id, 7, 100), 10);
    await store.sessions.create('b', s(p.id, 8, 200), 10);
    await store.sessions.create('c', s(q.id, 7, 300), 10);
    // With the portal's member_id, which the access log names the portal by (as a hash).
    expect(await store.sessions.find('a')).toEqual({ portalId: p.id, userId: 7, createdAt: 1, expiresAt: 100, absoluteExpiresAt: 9_000, lastUsedAt: 1, memberId: p.memberId });
    expect((await store.sessions.find('c'))!.memberId).toBe('m2');
    await store.sessions.touch('a', 50, 150);
    expect(await store.sessions.find('a')).toMatchObject({ lastUsedAt: 50, expiresAt: 150 });
    expect(await store.sessions.deleteExpired(150)).toBe(1);
    expect(await store.sessions.find('a')).toBeNull();
    await store.sessions.deleteForPortal(p.id);
    expect(await store.sessions.find('b')).toBeNull();
    expect(await store.sessions.find('c')).not.toBeNull();
    await store.sessions.delete('c');
    expect(await store.sessions.find('c')).toBeNull();
    expect(await store.sessions.deleteExpired(1e12)).toBe(0);
  });

  it('keeps the newest sessions per user even when they were created in the same second', async () => {
    const { store } = await backend.freshStore();
    const p = await seedPortal(store);
    const s = { portalId: p.id, userId: 7, createdAt: 5, expiresAt: 100, absoluteExpiresAt: 100, lastUsedAt: 5 };
    for (const id of ['s1', 's2', 's3', 's4']) await store.sessions.create(id, s, 2);
    const alive = [];
    for (const id of ['s1', 's2', 's3', 's4']) alive.push((await store.sessions.find(id)) !== null);
    expect(alive).toEqual([false, false, true, true]);
  });

  it('many sign-ins of one user at once still leave at most keepPerUser sessions', async () => {
    const { store, db } = await backend.freshStore();
    const p = await seedPortal(store);
    const s = (i: number) => ({ portalId: p.id, userId: 7, createdAt: i, expiresAt: 1e9, absoluteExpiresAt: 1e9, lastUsedAt: i });
    await Promise.all(Array.from({ length: 12 }, (_, i) => store.sessions.create(`c${i}`, s(i), 3)));
    expect(await db.count('sessions')).toBe(3);
  });
});

forEachBackend('users', (backend) => {
  it('upserts a user (created, then updated in place) and finds it by portal and user id', async () => {
    const { store } = await backend.freshStore();
    const p = await seedPortal(store);
    const u = await store.users.upsert(p.id, 9, { name: 'Иван', isAdmin: true, lang: 'ru', photoUrl: 'https://x/p.png', timeZone: 'Europe/Moscow' });
    expect(u).toMatchObject({ portalId: p.id, userId: 9, name: 'Иван', isAdmin: true, lang: 'ru', photoUrl: 'https://x/p.png', timeZone: 'Europe/Moscow' });
    expect(typeof u.lastSeenAt).toBe('number');
    const again = await store.users.upsert(p.id, 9, { name: 'Ivan', isAdmin: false, lang: 'en', photoUrl: null, timeZone: null });
    expect(again).toMatchObject({ name: 'Ivan', isAdmin: false, photoUrl: null, timeZone: null });
    expect(await store.users.find(p.id, 9)).toEqual(again);
    expect(await store.users.find(p.id, 10)).toBeNull();
    expect(await store.users.find(p.id + 1000, 9)).toBeNull();
  });
});

forEachBackend('oauth states (created by anonymous requests)', (backend: Backend) => {
  it('are bounded: expired ones are swept on create, and beyond the cap nothing is stored', async () => {
    const { store, db } = await backend.freshStore();
    const count = () => db.count('oauth_states');
    for (let i = 0; i < 3; i++) expect(await store.oauthStates.create(`old-${i}`, 'a.bitrix24.ru', 100, 0, 3)).toBe(true);
    expect(await store.oauthStates.create('refused', 'a.bitrix24.ru', 200, 0, 3)).toBe(false);
    expect(await count()).toBe(3);
    // Ten minutes later the old ones have expired: the sweep makes room.
    expect(await store.oauthStates.create('fresh', 'a.bitrix24.ru', 800, 200, 3)).toBe(true);
    expect(await count()).toBe(1);
    expect(await store.oauthStates.consume('fresh', 200)).toEqual({ domain: 'a.bitrix24.ru' });
    expect(await store.oauthStates.consume('fresh', 200)).toBeNull();
  });

  it('a state older than notBefore does not work, and is gone', async () => {
    const { store, db } = await backend.freshStore();
    await store.oauthStates.create('n', 'a.bitrix24.ru', 100, 0, 10);
    expect(await store.oauthStates.consume('n', 101)).toBeNull();
    expect(await db.count('oauth_states')).toBe(0);
  });

  it('the cap holds when many are created at once', async () => {
    const { store, db } = await backend.freshStore();
    const made = await Promise.all(Array.from({ length: 20 }, (_, i) => store.oauthStates.create(`s${i}`, 'a.bitrix24.ru', 100, 0, 5)));
    expect(made.filter(Boolean).length).toBe(5);
    expect(await db.count('oauth_states')).toBe(5);
  });
});
