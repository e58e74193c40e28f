import { expect, it } from 'bun:test';
import { forEachBackend, portalInput, seedPortal, testClock } from './backends.ts';

const tokens = { accessToken: 'a'.repeat(32), refreshToken: 'r'.repeat(32), expiresAt: 1, scope: '' };
const session = (portalId: number, userId = 7) => ({ portalId, userId, createdAt: 1, expiresAt: 9e9, absoluteExpiresAt: 9e9, lastUsedAt: 1 });

forEachBackend('portal repository', (backend) => {
  it('creates a portal with statusIfNew and finds it by member_id, id and domain', async () => {
    const clock = testClock();
    const { store } = await backend.freshStore({ clock });
    const p = await store.portals.upsert(portalInput('m1'), 'installed');
    expect(p).toMatchObject({ memberId: 'm1', domain: 'm1.bitrix24.com', status: 'installed', installedAt: clock.now(), hasApplicationToken: false, uninstallClaim: null, purgeAt: null });
    expect(typeof p.id).toBe('number');
    expect(await store.portals.findByMemberId('m1')).toEqual(p);
    expect(await store.portals.findById(p.id)).toEqual(p);
    expect(await store.portals.findByDomain('m1.bitrix24.com')).toEqual(p);
    expect(await store.portals.findByMemberId('nobody')).toBeNull();
    expect(await store.portals.findById(p.id + 1000)).toBeNull();
    const pending = await store.portals.upsert(portalInput('m2'));
    expect([pending.status, pending.installedAt]).toEqual(['pending', null]);
  });

  it('upsert refreshes endpoints and scope but never the status', async () => {
    const { store } = await backend.freshStore();
    const p = await store.portals.upsert(portalInput('m1'), 'installed');
    const again = await store.portals.upsert({ ...portalInput('m1', 'renamed.bitrix24.com'), scope: 'crm' }, 'pending');
    expect(again).toMatchObject({ id: p.id, status: 'installed', domain: 'renamed.bitrix24.com', scope: 'crm' });
  });

  it('recordLaunch creates a pending portal, refreshes an open one, and writes nothing for a closed or removed one', async () => {
    const { store } = await backend.freshStore();
    const p = (await store.portals.recordLaunch(portalInput('m1')))!;
    expect(p.status).toBe('pending');
    expect((await store.portals.recordLaunch({ ...portalInput('m1'), scope: 'x' }))?.scope).toBe('x');
    await store.portals.markInstalled(p.id, 'hash', 10);
    await store.portals.closeAfterUninstall(p.id, 11, null);
    expect(await store.portals.recordLaunch({ ...portalInput('m1'), scope: 'y' })).toBeNull();
    expect((await store.portals.findById(p.id))?.scope).toBe('x');
    await store.portals.removeWithData(p.id, 12);
    expect(await store.portals.recordLaunch(portalInput('m1'))).toBeNull();
    expect(await store.portals.findByMemberId('m1')).toBeNull();
  });

  it('markInstalled: installed, hash kept when null, claim and purge cleared, closed sessions and an earlier removal forgotten', async () => {
    const { store, db } = await backend.freshStore();
    const p = await seedPortal(store);
    await store.portals.claimUninstall(p.id, true, 5);
    await store.portals.markInstalled(p.id, 'h1', 10);
    expect(await store.portals.applicationTokenHash('m1')).toBe('h1');
    await store.sessions.create('s-open', session(p.id), 10);
    await store.portals.closeAfterUninstall(p.id, 20, 999);
    const installed = await store.portals.markInstalled(p.id, null, 30);
    expect(installed).toMatchObject({ status: 'installed', hasApplicationToken: true, lifecycleTs: 30, uninstallClaim: null, purgeAt: null, uninstalledAt: null });
    expect(await store.portals.applicationTokenHash('m1')).toBe('h1');
    expect(await store.sessions.find('s-open')).toBeNull();
    // A removal of the same member_id is forgotten by a verified install.
    const q = await seedPortal(store, 'm2');
    await store.portals.removeWithData(q.id, 40);
    expect(await store.portals.findRemoved('m2')).not.toBeNull();
    const back = await store.portals.upsert(portalInput('m2'), 'pending');
    await store.portals.markInstalled(back.id, 'h2', 41);
    expect(await store.portals.findRemoved('m2')).toBeNull();
    expect(await db.count('removed_portals')).toBe(0);
    await expect(store.portals.markInstalled(back.id + 1000, 'h', 1)).rejects.toThrow('not found');
  });

  it('closeAfterUninstall: tokens deleted, sessions closed, purge scheduled; false the second time', async () => {
    const { store } = await backend.freshStore();
    const p = await seedPortal(store);
    await store.portals.markInstalled(p.id, 'h', 10);
    await store.tokens.save(p.id, { kind: 'app' }, 7, tokens);
    await store.tokens.save(p.id, { kind: 'user', userId: 8 }, 8, tokens);
    await store.sessions.create('s1', session(p.id), 10);
    await store.portals.claimUninstall(p.id, true, 15);
    expect(await store.portals.closeAfterUninstall(p.id, 20, 500)).toBe(true);
    const closed = (await store.portals.findById(p.id))!;
    expect(closed).toMatchObject({ status: 'uninstalled', lifecycleTs: 20, purgeAt: 500, uninstallClaim: null });
    expect(await store.tokens.find(p.id, { kind: 'app' })).toBeNull();
    expect(await store.tokens.find(p.id, { kind: 'user', userId: 8 })).toBeNull();
    expect(await store.sessions.find('s1')).toMatchObject({ closed: true });
    expect(await store.portals.closeAfterUninstall(p.id, 30, null)).toBe(false);
    expect((await store.portals.findById(p.id))?.lifecycleTs).toBe(20);
  });

  it('closeAfterUninstall keeps the data while a CLEAN=0 claim is pending, whatever purge the caller asks for', async () => {
    const { store } = await backend.freshStore();
    const p = await seedPortal(store);
    await store.portals.markInstalled(p.id, 'h', 10);
    // The admin's CLEAN=0 claim is written after a forged CLEAN=1 event read the portal without it.
    await store.portals.claimUninstall(p.id, false, 15);
    expect(await store.portals.closeAfterUninstall(p.id, 20, 500)).toBe(true);
    expect(await store.portals.findById(p.id)).toMatchObject({ status: 'uninstalled', purgeAt: null, uninstallClaim: null });
  });

  it('purges: listed when due, cancelled once', async () => {
    const { store } = await backend.freshStore();
    const a = await seedPortal(store, 'a');
    const b = await seedPortal(store, 'b');
    await store.portals.closeAfterUninstall(a.id, null, 100);
    await store.portals.closeAfterUninstall(b.id, null, 200);
    expect((await store.portals.listDuePurges(99)).map((p) => p.memberId)).toEqual([]);
    expect((await store.portals.listDuePurges(200)).map((p) => p.memberId)).toEqual(['a', 'b']);
    expect(await store.portals.cancelPurge(a.id)).toBe(true);
    expect(await store.portals.cancelPurge(a.id)).toBe(false);
    expect((await store.portals.listDuePurges(1000)).map((p) => p.memberId)).toEqual(['b']);
  });

  it('uninstall claims: the first time kept, CLEAN only while every claim asked for it, dropped on request', async () => {
    const { store } = await backend.freshStore();
    const p = await seedPortal(store);
    const q = await seedPortal(store, 'm2');
    await store.portals.claimUninstall(p.id, true, 100);
    expect((await store.portals.findById(p.id))?.uninstallClaim).toEqual({ claimedAt: 100, clean: true });
    await store.portals.claimUninstall(p.id, false, 200);
    expect((await store.portals.findById(p.id))?.uninstallClaim).toEqual({ claimedAt: 100, clean: false });
    await store.portals.claimUninstall(p.id, true, 300);
    expect((await store.portals.findById(p.id))?.uninstallClaim).toEqual({ claimedAt: 100, clean: false });
    await store.portals.claimUninstall(q.id, false, 50);
    expect((await store.portals.listUninstallClaims()).map((x) => x.memberId)).toEqual(['m2', 'm1']);
    await store.portals.dropUninstallClaim(p.id);
    expect((await store.portals.listUninstallClaims()).map((x) => x.memberId)).toEqual(['m2']);
    expect((await store.portals.findById(p.id))?.uninstallClaim).toBeNull();
  });

  it('lists installed portals by id, after a given id, at most limit', async () => {
    const { store } = await backend.freshStore();
    const ids = [];
    for (const m of ['a', 'b', 'c', 'd']) ids.push((await store.portals.upsert(portalInput(m), 'installed')).id);
    await store.portals.upsert(portalInput('pending-one'));
    await store.portals.closeAfterUninstall(ids[1]!, null, null);
    expect((await store.portals.listInstalled(0, 2)).map((p) => p.memberId)).toEqual(['a', 'c']);
    expect((await store.portals.listInstalled(ids[2]!, 10)).map((p) => p.memberId)).toEqual(['d']);
  });

  it('moves a renamed portal to its new endpoint and domain, keeping its identity', async () => {
    const { store } = await backend.freshStore();
    const p = await store.portals.upsert(
      { memberId: 'm1', domain: 'old.bitrix24.com', clientEndpoint: 'https://old.bitrix24.com/rest/', serverEndpoint: 'https://oauth.bitrix.info/rest/', appStatus: 'P', scope: '' },
      'installed',
    );
    await store.portals.moveEndpoint('https://old.bitrix24.com/rest/', 'https://new.bitrix24.com/rest/', 'new.bitrix24.com');
    const moved = (await store.portals.findById(p.id))!;
    expect([moved.memberId, moved.domain, moved.clientEndpoint]).toEqual(['m1', 'new.bitrix24.com', 'https://new.bitrix24.com/rest/']);
  });

  it('removeWithData deletes every row of the portal (cascade) and keeps only the removal record; other portals untouched', async () => {
    const { store, db } = await backend.freshStore();
    const p = await seedPortal(store, 'gone');
    const other = await seedPortal(store, 'kept');
    for (const portal of [p, other]) {
      await store.portals.markInstalled(portal.id, `hash-${portal.memberId}`, 5);
      await store.tokens.save(portal.id, { kind: 'app' }, 7, tokens);
      await store.tokens.save(portal.id, { kind: 'user', userId: 8 }, 8, tokens);
      await store.sessions.create(`s-${portal.memberId}`, session(portal.id), 10);
      const actor = { portalId: portal.id, userId: 7 };
      await store.items.create(actor, `item-${portal.memberId}`, { name: 'x', data: null, status: 'active', startsAt: 100, endsAt: null }, 1);
      await store.items.setCalendarEvent(actor, `item-${portal.memberId}`, `ev-${portal.memberId}`, 2);
      await store.items.update(actor, `item-${portal.memberId}`, 2, { name: 'y', data: null, status: 'active', startsAt: 100, endsAt: null }, 3, { op: 'update', dueAt: 3 });
      await store.calendarQueue.startBatch(portal.id, 'proc', 4);
    }
    const tables = ['portal_tokens', 'users', 'sessions', 'items', 'calendar_jobs', 'offline_event_batches'];
    for (const t of tables) expect(await db.count(t, `portal_id = ${p.id}`)).toBeGreaterThan(0);
    await store.portals.removeWithData(p.id, 77);
    for (const t of tables) expect([t, await db.count(t, `portal_id = ${p.id}`)]).toEqual([t, 0]);
    for (const t of tables) expect(await db.count(t, `portal_id = ${other.id}`)).toBeGreaterThan(0);
    expect(await store.portals.findById(p.id)).toBeNull();
    expect(await store.portals.findRemoved('gone')).toEqual({ memberId: 'gone', applicationTokenHash: 'hash-gone', lifecycleTs: 5, removedAt: 77 });
    expect(await store.portals.findRemoved('kept')).toBeNull();
  });
});
