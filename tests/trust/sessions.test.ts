import { afterAll, describe, expect, it } from 'bun:test';
import { createSessions } from '../../src/auth/sessions.ts';
import { createTokenCipher } from '../../src/auth/secrets.ts';
import { openSqliteStore } from '../../src/store/sqlite/open-store.ts';
import { TEST_APP_SECRET } from '../support/config.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir();
afterAll(() => dir.cleanup());

async function setup() {
  const store = await openSqliteStore(dir.file(`${crypto.randomUUID()}.db`), { cipher: createTokenCipher(TEST_APP_SECRET) });
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

describe('sessions', () => {
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
});
