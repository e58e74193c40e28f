/**
 * bench:rest — pull N users from the emulator under Bitrix24's default limit (2/s, burst 50) with
 * injected latency, and compare:
 *   - ours, listAll: first page for the total, then every other page 50 per `batch` request;
 *   - ours, list by ID: `start=-1` pages one after another (what you get when pages depend on each other);
 *   - @bitrix24/b24jssdk's list helper (`actions.v2.callList`, B24OAuth pointed at the emulator).
 * Each run gets its own portal, so each starts with an empty bucket on the server.
 * The theoretical minimum is the issue's formula, requests ÷ rate + latency; the burst-aware floor
 * also credits the burst (requests past the burst ÷ rate, but never less than the round trips).
 *
 *   bun bench/rest/pull-users.ts [--users 5000] [--latency-ms 100] [--rate 2] [--burst 50] [--skip-sdk]
 */
import { B24OAuth } from '@bitrix24/b24jssdk';
import { createBitrix } from '../../src/bitrix/index.ts';
import { tempDir } from '../../tests/support/temp.ts';
import { CLIENT_ID, CLIENT_SECRET, startWorld, type InstalledPortal, type World } from '../../tests/bitrix/helpers/emulator-world.ts';
import { numberArg } from '../numbers.ts';

const USERS = numberArg('users', 5000);
const LATENCY = numberArg('latency-ms', 100);
const RATE = numberArg('rate', 2);
const BURST = numberArg('burst', 50);
const RUN_LIMIT_MS = 150_000;

interface Run {
  name: string;
  ms: number;
  rows: number;
  requests: number;
  minMs: number;
  floorMs: number;
}

async function main() {
  const dir = tempDir('b24-bench-rest-');
  const world = await startWorld(dir.file('bench.db'), { rate: RATE, burst: BURST, latencyMs: LATENCY });
  const bitrix = createBitrix({ store: world.store, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, oauthServers: [world.oauthUrl], limits: { rate: RATE, burst: BURST } });
  const runs: Run[] = [];
  try {
    const pages = (rows: number) => Math.ceil(rows / 50);
    const sequential = (requests: number) => ({ minMs: (requests / RATE) * 1000 + LATENCY, floorMs: Math.max(requests * LATENCY, ((requests - BURST) / RATE) * 1000 + LATENCY) });
    const batched = (requests: number) => ({ minMs: (requests / RATE) * 1000 + LATENCY, floorMs: Math.max(2 * LATENCY, ((requests - BURST) / RATE) * 1000 + LATENCY) });

    const a = await world.installPortal(USERS);
    runs.push(await timed('ours: listAll (batched pages)', world, async () => {
      const rows = await bitrix.client(a.portal, a.owner).listAll('user.get', { sort: 'ID', order: 'ASC' });
      return rows.length;
    }, (rows) => 1 + Math.ceil((pages(rows) - 1) / 50), batched));

    const b = await world.installPortal(USERS);
    runs.push(await timed('ours: list, start=-1 by ID', world, async () => {
      let n = 0;
      for await (const _ of bitrix.client(b.portal, b.owner).list('user.get', {}, { mode: 'id' })) n++;
      return n;
    }, (rows) => pages(rows) + (rows % 50 === 0 ? 1 : 0), sequential));

    if (!process.argv.includes('--skip-sdk')) {
      const c = await world.installPortal(USERS);
      const sdk = await sdkClient(world, c);
      runs.push(await timed('b24jssdk: actions.v2.callList', world, async () => {
        const res = await sdk.actions.v2.callList.make({ method: 'user.get', params: {}, idKey: 'ID' });
        if (!res.isSuccess) throw new Error(`b24jssdk failed: ${res.getErrorMessages().join('; ')}`);
        return (res.getData() ?? []).length;
      }, (rows) => pages(rows) + (rows % 50 === 0 ? 1 : 0), sequential));
    }
  } finally {
    await world.stop();
    dir.cleanup();
  }
  report(runs);
}

async function timed(name: string, world: World, run: () => Promise<number>, requestsFor: (rows: number) => number, min: (requests: number) => { minMs: number; floorMs: number }): Promise<Run> {
  const before = await world.stats();
  const t0 = performance.now();
  const rows = await Promise.race([run(), Bun.sleep(RUN_LIMIT_MS).then(() => { throw new Error(`${name}: over ${RUN_LIMIT_MS / 1000} s, stopped`); })]);
  const ms = performance.now() - t0;
  const after = await world.stats();
  const requests = requestsFor(rows);
  const m = min(requests);
  console.error(`${name}: ${rows} rows in ${(ms / 1000).toFixed(2)} s (${after.rest_calls - before.rest_calls} REST calls counted, ${after.rate_limited - before.rate_limited} refused with 503)`);
  return { name, ms, rows, requests, ...m };
}

async function sdkClient(world: World, p: InstalledPortal) {
  const t = await world.store.tokens.find(p.portal.id, p.owner);
  if (!t) throw new Error('no tokens');
  const sdk = new B24OAuth(
    {
      applicationToken: '',
      userId: t.userId,
      memberId: p.memberId,
      accessToken: t.accessToken,
      refreshToken: t.refreshToken,
      expires: t.expiresAt,
      expiresIn: 3600,
      scope: t.scope,
      domain: p.portal.domain,
      // bx24-frame-protocol.md §8 (c): a trailing slash would give /rest//method.
      clientEndpoint: p.portal.clientEndpoint.replace(/\/$/, ''),
      serverEndpoint: p.portal.serverEndpoint,
      status: 'L',
    },
    { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
  );
  sdk.offClientSideWarning();
  return sdk;
}

function report(runs: Run[]) {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`\nbench:rest — ${USERS} users, limit ${RATE}/s burst ${BURST}, latency ${LATENCY} ms per request\n`);
  console.log(['run'.padEnd(32), 'rows'.padStart(6), 'reqs'.padStart(5), 'time'.padStart(9), 'min'.padStart(9), 'x min'.padStart(6), 'floor'.padStart(9), 'x floor'.padStart(8)].join(' '));
  for (const r of runs) {
    console.log([r.name.padEnd(32), String(r.rows).padStart(6), String(r.requests).padStart(5), s(r.ms).padStart(9), s(r.minMs).padStart(9), (r.ms / r.minMs).toFixed(2).padStart(6), s(r.floorMs).padStart(9), (r.floorMs > 0 ? (r.ms / r.floorMs).toFixed(2) : '-').padStart(8)].join(' '));
  }
  const ours = runs[0];
  const sdk = runs.find((r) => r.name.startsWith('b24jssdk'));
  if (ours && sdk) console.log(`\nb24jssdk callList / ours listAll: ${(sdk.ms / ours.ms).toFixed(1)}x`);
  const byId = runs[1];
  if (byId && sdk) console.log(`b24jssdk callList / ours list by ID (same request pattern): ${(sdk.ms / byId.ms).toFixed(2)}x`);
  console.log('min = requests ÷ rate + latency (issue 4); floor = max(round trips × latency, (requests − burst) ÷ rate + latency)');
}

await main();
process.exit(0);
