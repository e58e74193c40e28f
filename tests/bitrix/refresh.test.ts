/**
 * Token refresh against the emulator over HTTP: its OAuth server accepts each refresh token once and
 * counts every refresh request, so "exactly one" is measured where it matters, at the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createBitrix, type BitrixError } from '../../src/bitrix/index.ts';
import { tempDir } from '../support/temp.ts';
import { CLIENT_ID, CLIENT_SECRET, startWorld, type World } from './helpers/emulator-world.ts';

const dir = tempDir('b24-bitrix-refresh-');
let world: World;

beforeAll(async () => {
  world = await startWorld(dir.file('app.db'), { rate: 200, burst: 200 });
});
afterAll(async () => {
  await world.stop();
  dir.cleanup();
});

const newBitrix = () =>
  createBitrix({ store: world.store, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, oauthServers: [world.oauthUrl], limits: { rate: 200, burst: 200 } });

describe('refresh on expired_token', () => {
  it('50 concurrent calls on an expired token: exactly one refresh, 50 successes', async () => {
    const { portal, owner, memberId } = await world.installPortal();
    const client = newBitrix().client(portal, owner);
    expect((await client.call<{ ID: string }>('user.current')).result.ID).toBeTruthy();
    await world.emu.expireTokens({ member_id: memberId });
    const before = await world.emu.stats();

    const results = await Promise.allSettled(Array.from({ length: 50 }, () => client.call<{ ID: string }>('user.current')));

    const after = await world.emu.stats();
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(50);
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.refresh_failures - before.refresh_failures).toBe(0);
    const row = await world.store.tokens.find(portal.id, owner);
    expect(row?.dead).toBe(false);
    expect(row!.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  it('two client instances sharing the store still refresh once', async () => {
    const { portal, owner, memberId } = await world.installPortal();
    const a = newBitrix().client(portal, owner);
    const b = newBitrix().client(portal, owner);
    await a.call('user.current');
    await world.emu.expireTokens({ member_id: memberId });
    const before = await world.emu.stats();
    const results = await Promise.allSettled([...Array.from({ length: 25 }, () => a.call('user.current')), ...Array.from({ length: 25 }, () => b.call('user.current'))]);
    const after = await world.emu.stats();
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(50);
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.refresh_failures - before.refresh_failures).toBe(0);
  });

  it('a dead refresh token gives one typed error per call, one refresh attempt in all, and no further requests', async () => {
    const { portal, owner, memberId } = await world.installPortal();
    const row = await world.store.tokens.find(portal.id, owner);
    await world.store.tokens.save(portal.id, owner, row!.userId, { ...row!, refreshToken: 'not-a-refresh-token-0000000000' });
    await world.emu.expireTokens({ member_id: memberId });
    const client = newBitrix().client(portal, owner);
    const before = await world.emu.stats();

    const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.call('user.current')));

    const mid = await world.emu.stats();
    expect(results.every((r) => r.status === 'rejected' && (r.reason as BitrixError).code === 'TOKENS_DEAD')).toBe(true);
    expect(mid.refreshes - before.refreshes).toBe(0);
    expect(mid.refresh_failures - before.refresh_failures).toBe(1);
    expect((await world.store.tokens.find(portal.id, owner))?.dead).toBe(true);

    const again = await client.call('user.current').catch((e: BitrixError) => e);
    expect((again as BitrixError).code).toBe('TOKENS_DEAD');
    const after = await world.emu.stats();
    expect(after.refresh_failures).toBe(mid.refresh_failures);
    expect(after.rest_calls).toBe(mid.rest_calls);
  });

  it('a token known to be expired by its stored expiry is refreshed before the call', async () => {
    const { portal, owner } = await world.installPortal();
    const row = await world.store.tokens.find(portal.id, owner);
    await world.store.tokens.save(portal.id, owner, row!.userId, { ...row!, expiresAt: Math.floor(Date.now() / 1000) - 5 });
    const before = await world.emu.stats();
    await newBitrix().client(portal, owner).call('user.current');
    const after = await world.emu.stats();
    expect(after.refreshes - before.refreshes).toBe(1);
  });
});
