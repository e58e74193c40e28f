/**
 * GET /metrics on the whole stack (the app and the emulator over real HTTP): after traffic — launches,
 * a list, creates, a 404, REST calls Bitrix24 refuses for a limit and for a dead token — the counters
 * and histograms moved by what happened, under route templates and never a raw id; the text is valid
 * exposition; the calendar queue gauges match the store. Then who may scrape (docs/operations.md):
 * loopback, METRICS_ALLOW, a METRICS_TOKEN bearer; anyone else gets the 404 of an unknown path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createApp } from '../../src/app.ts';
import { createTokenCipher } from '../../src/auth/secrets.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { openSqliteStore } from '../../src/store/sqlite/open-store.ts';
import { openCabinet, type Cabinet, type CabinetUser, type ItemJson } from '../cabinet/cabinet-harness.ts';
import { testConfig, TEST_APP_SECRET } from '../support/config.ts';
import { allSamples, parseExposition, sampleValue, type MetricFamily } from '../support/prometheus-text.ts';
import { tempDir } from '../support/temp.ts';

const clock = { at: Math.floor(Date.now() / 1000) };

async function scrape(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text());
}

describe('GET /metrics after traffic', () => {
  let cab: Cabinet;
  let a: CabinetUser;
  let b: CabinetUser;
  let linked: ItemJson;
  let before: Map<string, MetricFamily>;
  let after: Map<string, MetricFamily>;
  let created: ItemJson;
  const moved = (name: string, labels: Record<string, string>) => (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);

  beforeAll(async () => {
    // The app's clock stands still unless moved (queue ages are exact). Calendar updates wait 10 minutes,
    // so the one below stays pending. calendar.event.add crosses the emulator's tiny operating limit on
    // its first call (3 ms latency vs 2 ms), so the second on that portal is refused with 429.
    cab = await openCabinet({
      now: () => clock.at,
      env: { CALENDAR_WRITE_DELAY_SECONDS: '600' },
      emulator: { operatingLimitSeconds: 0.002, latencyMs: 3 },
    });
    a = await cab.signIn(await cab.newPortal(), 2);
    b = await cab.signIn(await cab.newPortal(), 2);
    linked = await a.create({ name: 'Linked', starts_at: '2026-12-06T09:00:00Z' });
    expect((await a.api('POST', `/api/items/${linked.id}/calendar`)).status).toBe(200);
    const bItem = await b.create({ name: 'Not to be linked', starts_at: '2026-12-06T09:00:00Z' });
    before = await scrape(cab.stack.appUrl);

    expect((await a.api('GET', '/api/items')).status).toBe(200);
    created = await a.create({ name: 'Second', starts_at: '2026-12-07T09:00:00Z' });
    expect((await a.api('GET', `/api/items/${created.id}`)).status).toBe(200);
    expect((await cab.raw('GET', '/no-such-page')).status).toBe(404);
    expect((await a.api('POST', `/api/items/${created.id}/calendar`)).status).toBe(429);
    await cab.killTokens(b);
    expect((await b.api('POST', `/api/items/${bItem.id}/calendar`)).status).toBe(401);
    expect((await a.api('PUT', `/api/items/${linked.id}`, { version: (await cab.row(linked.id))!.version, name: 'Renamed' })).status).toBe(200);
    await cab.signIn(a.portal, 3);
    clock.at += 30; // past the 5 s the queue reading is kept, and the pending job 30 s old
    after = await scrape(cab.stack.appUrl);
  });
  afterAll(() => cab.stop());

  it('counts each request under its route template, method and status', () => {
    const count = (route: string, method: string, status: string) => moved('b24app_http_requests_total', { route, method, status });
    expect(count('/api/items', 'GET', '200')).toBe(1);
    expect(count('/api/items', 'POST', '201')).toBe(1);
    expect(count('/api/items/:id', 'GET', '200')).toBe(1);
    expect(count('/api/items/:id', 'PUT', '200')).toBe(1);
    expect(count('unmatched', 'GET', '404')).toBe(1);
    expect(count('/api/items/:id/calendar', 'POST', '429')).toBe(1);
    expect(count('/api/items/:id/calendar', 'POST', '401')).toBe(1);
    expect(count('/', 'POST', '200')).toBe(1); // the second launch
    expect(count('/metrics', 'GET', '200')).toBe(1); // the first scrape (each is counted after it answers)
  });

  it('moves the latency histogram of each of those series by one observation', () => {
    const series = { route: '/api/items/:id', method: 'GET', status_class: '2xx' };
    expect(moved('b24app_http_request_duration_seconds_count', series)).toBe(1);
    expect(moved('b24app_http_request_duration_seconds_bucket', { ...series, le: '+Inf' })).toBe(1);
    expect(moved('b24app_http_request_duration_seconds_sum', series)).toBeGreaterThan(0);
    // Exactly one bucket boundary was crossed: the increments of the cumulative buckets rise 0…0 1…1.
    const les = after.get('b24app_http_request_duration_seconds')!.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.route === series.route && s.labels.method === 'GET' && s.labels.status_class === '2xx').map((s) => s.labels.le!);
    const steps = les.map((le) => moved('b24app_http_request_duration_seconds_bucket', { ...series, le }));
    expect(steps.length).toBe(16);
    expect(steps).toEqual([...steps].sort((x, y) => x - y));
    expect(new Set(steps)).toEqual(steps[0] === 1 ? new Set([1]) : new Set([0, 1]));
    expect(moved('b24app_http_request_duration_seconds_count', { route: '/api/items/:id/calendar', method: 'POST', status_class: '4xx' })).toBe(2);
  });

  it('counts the REST calls by method and outcome, the limit answer and the dead refresh', () => {
    expect(moved('b24app_bitrix_rest_calls_total', { method: 'calendar.event.add', outcome: 'rate_limited' })).toBe(1);
    expect(moved('b24app_bitrix_rest_calls_total', { method: 'calendar.event.add', outcome: 'unauthorized' })).toBe(1);
    expect(moved('b24app_bitrix_limit_answers_total', { code: 'OPERATION_TIME_LIMIT' })).toBe(1);
    expect(moved('b24app_bitrix_limit_answers_total', { code: 'QUERY_LIMIT_EXCEEDED' })).toBe(0);
    expect(moved('b24app_bitrix_token_refreshes_total', { outcome: 'dead' })).toBe(1);
    // The launch reads the user through the portal's REST API (one batch).
    expect(moved('b24app_bitrix_rest_calls_total', { method: 'batch', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
  });

  it('counts the session the launch issued', () => {
    expect(moved('b24app_sessions_issued_total', {})).toBe(1);
  });

  it('shows the calendar queue as the store has it, with the age by the app clock', async () => {
    const depth = await cab.stack.store.calendarQueue.depth();
    expect(depth.outbox.pending).toBe(1);
    for (const direction of ['outbox', 'inbox'] as const) {
      for (const state of ['pending', 'failed'] as const) {
        expect(sampleValue(after, 'b24app_calendar_queue_jobs', { direction, state })).toBe(depth[direction][state]);
      }
    }
    expect(sampleValue(after, 'b24app_calendar_queue_oldest_pending_age_seconds')).toBe(30);
  });

  it('never puts a raw path, id, member_id or token in a label', () => {
    const routes = new Set([...cab.stack.server.app.router.routes.map((r) => r.path), 'unmatched', '/metrics']);
    const secrets = [linked.id, created.id, a.portal.member_id, b.portal.member_id, a.token, b.token];
    for (const s of allSamples(after)) {
      if (s.labels.route !== undefined) expect(routes).toContain(s.labels.route);
      for (const value of Object.values(s.labels)) for (const secret of secrets) expect(value).not.toContain(secret);
    }
    expect(allSamples(after).filter((s) => s.labels.route !== undefined).length).toBeGreaterThan(20);
  });

  it('logs each request with its route template, status, duration, id and the portal as a hash', async () => {
    const lines = cab.stack.logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
    const tag = new Bun.CryptoHasher('sha256').update(a.portal.member_id).digest('hex').slice(0, 16);
    const get = lines.find((l) => l.route === '/api/items/:id' && l.method === 'GET')!;
    expect(get).toMatchObject({ status: 200, portal: tag, path: `/api/items/${created.id}` });
    expect(typeof get.duration_ms).toBe('number');
    expect(get.request_id).toMatch(/^[0-9a-f-]{36}$/);
    // A launch names the portal it verified; a request nobody vouched for names none.
    expect(lines.filter((l) => l.route === '/' && l.method === 'POST').map((l) => l.portal)).toContain(tag);
    expect(lines.find((l) => l.path === '/no-such-page')).toMatchObject({ route: 'unmatched', status: 404 });
    expect(lines.find((l) => l.path === '/no-such-page')!.portal).toBeUndefined();
    expect(lines.find((l) => l.route === '/metrics')!.portal).toBeUndefined();
    // The member_id itself never appears in an access line (only its hash does), nor does any token.
    const text = cab.stack.logLines.filter((l) => l.includes('"msg":"request"')).join('\n');
    for (const secret of [a.portal.member_id, a.token, b.token, a.launch.form.AUTH_ID!, a.launch.form.REFRESH_ID!]) expect(text).not.toContain(secret);
  });
});

describe('who may read /metrics', () => {
  const dir = tempDir('b24app-metrics-');
  const running: RunningServer[] = [];
  afterAll(async () => {
    for (const r of running) await r.shutdown('test');
    dir.cleanup();
  });

  /** The app on a real socket with `env`; `peer` stands for the TCP peer's address when given. */
  async function serve(env: Record<string, string>, peer?: string) {
    const store = await openSqliteStore(dir.file(`${crypto.randomUUID()}.db`), { cipher: createTokenCipher(TEST_APP_SECRET) });
    const logger = createMemoryLogger();
    const server = startServer({
      app: (peerIp) => createApp({ config: testConfig(env), store, logger }, peer === undefined ? peerIp : () => peer),
      store,
      logger,
      host: '127.0.0.1',
      port: 0,
    });
    running.push(server);
    const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
      fetch(`${server.url}${path}`, { method, headers }).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), body: await r.text() }));
    return { get, logger };
  }

  /** A refused scrape must be indistinguishable from a path that does not exist. */
  async function expectUnknownPath(app: Awaited<ReturnType<typeof serve>>, headers: Record<string, string>) {
    for (const [method, accept] of [['GET', '*/*'], ['GET', 'application/json'], ['HEAD', '*/*'], ['POST', 'text/html']] as const) {
      const refused = await app.get('/metrics', { ...headers, accept }, method);
      const unknown = await app.get('/no-such-path', { ...headers, accept }, method);
      expect(refused.status).toBe(404);
      expect(refused).toEqual(unknown);
    }
  }

  it('answers loopback by default', async () => {
    const app = await serve({});
    const res = await app.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(parseExposition(res.body).has('b24app_build_info')).toBe(true);
    expect((await app.get('/metrics', {}, 'HEAD')).status).toBe(200);
  });

  it('gives a client behind a trusted proxy the 404 of an unknown path, even one that claims loopback', async () => {
    const app = await serve({ TRUST_PROXY: '1' });
    await expectUnknownPath(app, { 'x-forwarded-for': '203.0.113.9' });
    // The client wrote 127.0.0.1; nginx appended the address it saw.
    await expectUnknownPath(app, { 'x-forwarded-for': '127.0.0.1, 203.0.113.9' });
    // A direct connection from loopback (no proxy header) is still loopback.
    expect((await app.get('/metrics')).status).toBe(200);
    const line = app.logger.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request' && l.path === '/metrics' && l.status === 404);
    expect(line).toMatchObject({ route: 'unmatched', ip: '203.0.113.9' });
  });

  it('admits the addresses and ranges in METRICS_ALLOW, and no others', async () => {
    const app = await serve({ TRUST_PROXY: '1', METRICS_ALLOW: '203.0.113.9, 198.51.100.0/24, 2001:db8::7' });
    for (const ip of ['203.0.113.9', '198.51.100.200', '2001:db8::7']) expect((await app.get('/metrics', { 'x-forwarded-for': ip })).status).toBe(200);
    await expectUnknownPath(app, { 'x-forwarded-for': '203.0.113.10' });
    await expectUnknownPath(app, { 'x-forwarded-for': '198.51.101.1' });
  });

  it('admits a bearer of METRICS_TOKEN; a wrong or missing token gets the 404', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const app = await serve({ TRUST_PROXY: '1', METRICS_TOKEN: token });
    const stranger = { 'x-forwarded-for': '203.0.113.9' };
    expect((await app.get('/metrics', { ...stranger, authorization: `Bearer ${token}` })).status).toBe(200);
    await expectUnknownPath(app, { ...stranger, authorization: `Bearer ${token}x` });
    await expectUnknownPath(app, { ...stranger, authorization: `Bearer ${token.slice(0, -1)}` });
    await expectUnknownPath(app, { ...stranger, authorization: token });
    await expectUnknownPath(app, stranger);
    expect(app.logger.lines.join('\n')).not.toContain(token);
  });

  it('without TRUST_PROXY takes the TCP peer, whatever X-Forwarded-For says', async () => {
    const remote = await serve({}, '198.51.100.7');
    await expectUnknownPath(remote, { 'x-forwarded-for': '127.0.0.1' });
    const allowed = await serve({ METRICS_ALLOW: '198.51.100.7' }, '198.51.100.7');
    expect((await allowed.get('/metrics')).status).toBe(200);
  });
});
