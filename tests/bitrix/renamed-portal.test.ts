/**
 * A renamed portal, against the emulator over HTTP: its former address answers 302 (DOCS
 * settings/how-to-call-rest-api/change-domen.md). The client re-sends the POST to the new host itself
 * (the body, with `auth`, survives), reports the move so the app can store it (wired as src/app.ts wires
 * it: `store.portals.moveEndpoint`), and goes straight to the new host afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createBitrix } from '../../src/bitrix/index.ts';
import { tempDir } from '../support/temp.ts';
import { CLIENT_ID, CLIENT_SECRET, startWorld, type World } from './helpers/emulator-world.ts';

const dir = tempDir('b24-bitrix-renamed-');
let world: World;

beforeAll(async () => {
  world = await startWorld(dir.file('app.db'), { rate: 200, burst: 200 });
});
afterAll(async () => {
  await world.stop();
  dir.cleanup();
});

describe('a portal renamed after install', () => {
  it('gets the POST re-sent to the new host, the move stored, and later calls sent there directly', async () => {
    const { portal, owner, memberId } = await world.installPortal();
    const moves: [string, string][] = [];
    const stored: Promise<void>[] = [];
    const bitrix = createBitrix({
      store: world.store,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      oauthServers: [world.oauthUrl],
      limits: { rate: 200, burst: 200 },
      onPortalMoved: (from, to) => {
        moves.push([from, to]);
        stored.push(world.store.portals.moveEndpoint(from, to, new URL(to).host));
      },
    });
    const client = bitrix.client(portal, owner);
    const renamed = await world.emu.rename(memberId);
    const before = await world.emu.stats(memberId);

    const answer = await client.call<{ ID: string }>('user.current');
    expect(answer.result.ID).toBe('1');
    expect(moves).toEqual([[portal.clientEndpoint, renamed.client_endpoint]]);
    await Promise.all(stored);
    expect(await world.store.portals.findByMemberId(memberId)).toMatchObject({ clientEndpoint: renamed.client_endpoint, domain: renamed.domain });

    await client.call('profile');
    const after = await world.emu.stats(memberId);
    expect(after.portal_redirects - before.portal_redirects).toBe(1);
    expect(after.rest_calls - before.rest_calls).toBe(2);
    expect(moves).toHaveLength(1);
  });
});
