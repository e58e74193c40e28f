/**
 * The multi-instance acceptance test (architecture §5, "several instances"): three `b24app serve`
 * processes on one PostgreSQL schema and one emulator portal (2 requests/s, burst 50, Bitrix24's
 * defaults), and a client that spreads its requests over all three (there is no load balancer: request
 * n goes to instance n mod 3). The parts run in order on the same portal:
 *
 * 1. a session from a launch on any instance is accepted by the other two;
 * 2. 60 concurrent calendar links on an expired user token: exactly one refresh, all 60 linked;
 * 3. 300 calendar links (REST-bound) under constant pressure: the shared per-portal bucket keeps the
 *    three together under the portal's limit, so the emulator never answers QUERY_LIMIT_EXCEEDED;
 * 4. kill -9 of one instance while creates stream in: every create answered 201 is there afterwards,
 *    read through another instance;
 * 5. an uninstall, whose events reach instance 1 only (the app's URL), is honoured by the other two.
 *
 * PostgreSQL is required whatever TEST_STORE says (the point is several processes on one server): when
 * it is down the test fails with a message saying so, as tests/store does. Nothing is skipped.
 * Timings are printed, one line per part, for the notes.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { startChildCluster, type ChildCluster } from '../support/child-server.ts';

setDefaultTimeout(120_000);

/**
 * Part 3 is slow by nature: the app paces every portal at Bitrix24's 2 requests/s (fixed in
 * src/bitrix, not configurable), so 300 REST calls after a burst of 50 take about (300 − 50) / 2 ≈ 125 s
 * however fast the emulator would go. A faster emulator would not shorten it; fewer calls would not
 * test the same thing. Hence its own timeout.
 */
const BURST_PART_TIMEOUT_MS = 420_000;

const INSTANCES = 3;

interface Answer {
  status: number;
  json: any;
}

describe('three serve instances on one PostgreSQL schema and one portal', () => {
  let cluster: ChildCluster;
  let turn = 0;
  /** The next instance in turn (round robin over all three). */
  const nextInstance = () => turn++ % INSTANCES;

  const api = async (instance: number, token: string, method: string, path: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${cluster.servers[instance]!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json().catch(() => null)) as any };
  };
  const member = () => cluster.portal.member_id;
  const stats = () => cluster.emu.stats(member());

  /** Creates `n` items with a start time as the session's user, spread over the instances; their ids. */
  async function createItems(token: string, n: number, label: string): Promise<string[]> {
    const created = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        api(nextInstance(), token, 'POST', '/api/items', { name: `${label} ${i}`, starts_at: new Date(Date.UTC(2026, 11, 1, 9) + i * 3_600_000).toISOString() }),
      ),
    );
    for (const c of created) expect(c.status).toBe(201);
    return created.map((c) => c.json.id as string);
  }

  beforeAll(async () => {
    cluster = await startChildCluster({
      instances: INSTANCES,
      // Calendar updates written at once; the emulator at Bitrix24's default limits, said out loud.
      env: { CALENDAR_WRITE_DELAY_SECONDS: '0' },
      emulator: { rate: 2, burst: 50 },
    });
    expect(cluster.database.backend).toBe('postgres');
  });
  afterAll(() => cluster?.stop());

  it('a session from a launch on any instance is accepted by every other', async () => {
    const t0 = performance.now();
    for (let launchedOn = 0; launchedOn < INSTANCES; launchedOn++) {
      const token = await cluster.signIn(2, launchedOn);
      for (let asked = 0; asked < INSTANCES; asked++) {
        const who = await api(asked, token, 'GET', '/api/users/current');
        expect({ launchedOn, asked, status: who.status }).toEqual({ launchedOn, asked, status: 200 });
        expect(who.json).toMatchObject({ id: 2, portal: { member_id: member() } });
      }
    }
    // A session nobody issued is refused everywhere (the check above can fail).
    for (let asked = 0; asked < INSTANCES; asked++) expect((await api(asked, 'x'.repeat(43), 'GET', '/api/users/current')).status).toBe(401);
    console.log(`three instances: sessions, 3 launches x 3 instances accepted in ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it('60 concurrent calendar links on an expired user token, over all three: one refresh, all 60 linked', async () => {
    const token = await cluster.signIn(2, 0);
    const ids = await createItems(token, 60, 'Expired-token link');
    const before = await stats();
    const { expired } = await cluster.emu.expireTokens({ member_id: member(), user_id: 2 });
    expect(expired).toBeGreaterThan(0);

    const t0 = performance.now();
    const linked = await Promise.all(ids.map((id) => api(nextInstance(), token, 'POST', `/api/items/${id}/calendar`)));
    const ms = performance.now() - t0;
    const after = await stats();

    expect(linked.map((l) => l.status)).toEqual(ids.map(() => 200));
    const events = linked.map((l) => l.json.calendar_event_id);
    expect(events.every((e) => typeof e === 'string' && e.length > 0)).toBe(true);
    expect(new Set(events).size).toBe(60);
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.refresh_failures - before.refresh_failures).toBe(0);
    expect(after.rate_limited).toBe(0);
    console.log(
      `three instances: 60 concurrent links on an expired token in ${ms.toFixed(0)} ms, ` +
        `${after.refreshes - before.refreshes} refresh, ${after.rest_calls - before.rest_calls} REST calls`,
    );
    // ~40 s: each link's first call is answered expired_token and repeated after the one refresh, so
    // ~120 calls at the portal's 2/s after a burst of 50.
  }, 120_000);

  it(
    '300 REST-bound calendar links spread over the three: the shared bucket keeps them under the limit',
    async () => {
      const token = await cluster.signIn(3, 1);
      const ids = await createItems(token, 300, 'Burst link');
      const before = await stats();
      expect(before.rate_limited).toBe(0);

      // The links go out 12 at a time (4 per instance) and the next one as soon as one is answered: the
      // demand stays far above the portal's 2/s for the whole run, so all three instances wait on the
      // shared bucket all along. Not all 300 at once: a link waits for its REST slot inside the request,
      // and the last of 300 would wait ~125 s, past the server's request timeout
      // (src/server.ts REQUEST_IDLE_TIMEOUT_SECONDS); 12 in flight wait ~6 s each.
      // With a bucket per instance instead of the shared one, each would send its own burst of 49 and
      // then 2/s, three times what the portal allows: rate_limited would rise within seconds.
      const IN_FLIGHT = 12;
      const statuses: number[] = new Array(ids.length);
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          for (let i = next++; i < ids.length; i = next++) {
            const answer = await api(i % INSTANCES, token, 'POST', `/api/items/${ids[i]}/calendar`);
            statuses[i] = answer.status;
          }
        }),
      );
      const ms = performance.now() - t0;
      const after = await stats();

      expect(statuses).toEqual(ids.map(() => 200));
      expect(after.rest_calls - before.rest_calls).toBeGreaterThanOrEqual(300);
      expect(after.rate_limited).toBe(0);
      const rows = await cluster.sql<{ n: number }>('SELECT count(*) AS n FROM items WHERE calendar_event_id IS NOT NULL');
      expect(rows[0]!.n).toBe(360);
      console.log(
        `three instances: 300 links (${after.rest_calls - before.rest_calls} REST calls) in ${(ms / 1000).toFixed(1)} s, ` +
          `${IN_FLIGHT} in flight over 3 instances, rate_limited ${after.rate_limited}`,
      );
    },
    BURST_PART_TIMEOUT_MS,
  );

  it('kill -9 of one instance mid-load loses no acknowledged write', async () => {
    const token = await cluster.signIn(4, 0);
    const VICTIM = 2;
    const TOTAL = 450;
    const KILL_AFTER = 150;
    const acknowledged: string[] = [];
    let refused = 0;
    let killed: Promise<void> | null = null;
    let attempt = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 9 }, async () => {
        for (let i = attempt++; i < TOTAL; i = attempt++) {
          try {
            const created = await api(i % INSTANCES, token, 'POST', '/api/items', { name: `Under load ${i}` });
            if (created.status === 201) acknowledged.push(created.json.id);
            else refused++;
          } catch {
            refused++; // the connection died with the instance: not acknowledged, nothing is promised
          }
          if (!killed && acknowledged.length >= KILL_AFTER) killed = cluster.servers[VICTIM]!.kill9();
        }
      }),
    );
    await killed;
    const ms = performance.now() - t0;
    expect(killed).not.toBeNull();
    // The victim's share after the kill could not be answered; the others kept answering.
    expect(refused).toBeGreaterThan(0);
    expect(acknowledged.length).toBeGreaterThan(KILL_AFTER);

    /** Every item of user 4, read through `instance`, page by page. */
    const everyId = async (instance: number) => {
      const seen = new Set<string>();
      let cursor: string | null = null;
      do {
        const page = await api(instance, token, 'GET', `/api/items?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.status).toBe(200);
        for (const item of page.json.items) seen.add(item.id);
        cursor = page.json.next_cursor;
      } while (cursor);
      return seen;
    };
    const onSurvivor = await everyId(0);
    expect(acknowledged.filter((id) => !onSurvivor.has(id))).toEqual([]);
    // And the restarted victim sees the same.
    await cluster.restart(VICTIM);
    const onRestarted = await everyId(VICTIM);
    expect(acknowledged.filter((id) => !onRestarted.has(id))).toEqual([]);
    console.log(
      `three instances: kill -9 under load, ${acknowledged.length} creates acknowledged (${refused} not) in ${ms.toFixed(0)} ms; ` +
        `all ${acknowledged.length} read back through the survivors (${onSurvivor.size} rows) and the restarted instance`,
    );
  });

  it('an uninstall handled by instance 1 is honoured by the other two', async () => {
    const sessions = await Promise.all([0, 1, 2].map((i) => cluster.signIn(5, i)));
    for (let i = 0; i < INSTANCES; i++) expect((await api(i, sessions[i]!, 'GET', '/api/users/current')).status).toBe(200);

    const t0 = performance.now();
    const removed = await cluster.emu.uninstall(member(), false);
    const ms = performance.now() - t0;
    // ONAPPUNINSTALL went to the app's URL, i.e. instance 1 (index 0), and it answered.
    expect(removed.event_status).toBe(200);
    expect(removed.deliveries.every((d) => new URL(d.url).port === new URL(cluster.appUrl).port)).toBe(true);
    // Each instance trusts a session it verified from memory for one second (src/auth/sessions.ts);
    // these are separate processes on the real clock, so the test lets that second pass.
    await Bun.sleep(1100);

    for (let asked = 0; asked < INSTANCES; asked++) {
      for (let issued = 0; issued < INSTANCES; issued++) {
        const who = await api(asked, sessions[issued]!, 'GET', '/api/users/current');
        expect({ asked, issued, status: who.status, code: who.json?.error?.code }).toEqual({ asked, issued, status: 401, code: 'not_installed' });
      }
    }
    console.log(`three instances: uninstall delivered to instance 1 in ${ms.toFixed(0)} ms; sessions on all three answer 401 not_installed within a second`);
  });
});
