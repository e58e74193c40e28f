/**
 * What launch verification (issue 5) builds on, against the emulator's OAuth server: app.info for a
 * token nobody vouched for yet, a call with such a token, the code exchange; and that the client's
 * logs never carry a token, whatever happens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createBitrix, type BitrixError } from '../../src/bitrix/index.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { tempDir } from '../support/temp.ts';
import { CLIENT_ID, CLIENT_SECRET, startWorld, type World } from './helpers/emulator-world.ts';

const dir = tempDir('b24-bitrix-oauth-');
let world: World;
const logger = createMemoryLogger('debug');
const bitrix = () => createBitrix({ store: world.store, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, oauthServers: [world.oauthUrl], limits: { rate: 100, burst: 100 }, logger });

beforeAll(async () => {
  world = await startWorld(dir.file('app.db'), { rate: 100, burst: 100 });
});
afterAll(async () => {
  await world.stop();
  dir.cleanup();
});

describe('bitrix.oauth and callWithToken', () => {
  it('app.info at the allow-listed OAuth server describes the token and its portal', async () => {
    const { portal, owner, memberId } = await world.installPortal();
    const t = await world.store.tokens.find(portal.id, owner);
    const info = await bitrix().oauth.appInfo(world.oauthUrl, t!.accessToken);
    expect(info.client_id).toBe(CLIENT_ID);
    expect(info.install.member_id).toBe(memberId);
    expect(info.install.client_endpoint).toBe(portal.clientEndpoint);

    const bad = (await bitrix().oauth.appInfo(world.oauthUrl, 'f'.repeat(64)).catch((e) => e)) as BitrixError;
    expect(bad.name).toBe('BitrixError');
    expect(bad.message).not.toContain('f'.repeat(64));
  });

  it('callWithToken calls the given endpoint with the given token, and never refreshes it', async () => {
    const { portal, owner, memberId } = await world.installPortal();
    const t = await world.store.tokens.find(portal.id, owner);
    const me = await bitrix().callWithToken<{ ID: string }>(portal.clientEndpoint, t!.accessToken, 'user.current');
    expect(me.result.ID).toBe(String(t!.userId));

    await world.emu.expireTokens({ member_id: memberId });
    const before = await world.emu.stats();
    const e = (await bitrix().callWithToken(portal.clientEndpoint, t!.accessToken, 'user.current').catch((x) => x)) as BitrixError;
    expect(e.code).toBe('expired_token');
    expect(e.status).toBe(401);
    expect((await world.emu.stats()).refreshes).toBe(before.refreshes);
  });

  it('exchanges an authorization code once; a second use is invalid_grant', async () => {
    const { memberId, portalUrl, portal } = await world.installPortal();
    const res = await fetch(`${portalUrl.replace(/\/$/, '')}/oauth/authorize/?client_id=${CLIENT_ID}&user_id=2&state=s1`, { redirect: 'manual' });
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    const grant = await bitrix().oauth.exchangeCode(world.oauthUrl, code);
    expect(grant.memberId).toBe(memberId);
    expect(grant.userId).toBe(2);
    expect(grant.clientEndpoint).toBe(portal.clientEndpoint);
    expect(grant.tokens.expiresAt).toBeGreaterThan(Date.now() / 1000);
    const again = (await bitrix().oauth.exchangeCode(world.oauthUrl, code).catch((x) => x)) as BitrixError;
    expect(again.code).toBe('invalid_grant');
    expect(again.message).not.toContain(code);
  });

  it('logs of refreshes and refusals carry no token', async () => {
    const { portal, owner, memberId } = await world.installPortal();
    const client = bitrix().client(portal, owner);
    const first = await world.store.tokens.find(portal.id, owner);
    await world.emu.expireTokens({ member_id: memberId });
    await client.call('user.current');
    const second = await world.store.tokens.find(portal.id, owner);
    await world.store.tokens.save(portal.id, owner, second!.userId, { ...second!, refreshToken: 'bogus-refresh-token-0000000000', expiresAt: 1 });
    await client.call('user.current').catch(() => null);
    const text = logger.lines.join('\n');
    expect(text).toContain('bitrix tokens refreshed');
    expect(text).toContain('tokens marked dead');
    for (const secret of [first!.accessToken, first!.refreshToken, second!.accessToken, second!.refreshToken, 'bogus-refresh-token-0000000000', CLIENT_SECRET]) {
      expect(text).not.toContain(secret);
    }
  });
});
