import { afterAll, beforeAll, describe, expect, it, setSystemTime } from 'bun:test';
import { rest } from '../support/emulator-client.ts';
import { startTestBed, type TestBed } from '../support/test-bed.ts';

/**
 * The buckets drain by the clock, and the emulator runs in this process: the tests freeze the clock
 * (bun:test's setSystemTime) and move it, instead of sleeping and hoping the machine kept up.
 */
function frozenClock() {
  let now = Date.now();
  setSystemTime(new Date(now));
  return {
    advance(ms: number) {
      now += ms;
      setSystemTime(new Date(now));
    },
    release: () => setSystemTime(),
  };
}

describe('the leaky bucket (drain 2/s, burst 50)', () => {
  let bed: TestBed;
  beforeAll(async () => {
    bed = await startTestBed();
  });
  afterAll(() => bed.stop());

  it('refuses the 51st immediate request with 503 QUERY_LIMIT_EXCEEDED, and serves again after draining', async () => {
    const portal = await bed.emu.createPortal();
    const token = (await bed.emu.install(portal.member_id)).launch.form.AUTH_ID;
    const clock = frozenClock();
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, () => rest(portal.client_endpoint, 'profile', {}, token)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      const refused = await rest(portal.client_endpoint, 'profile', {}, token);
      expect(refused.status).toBe(503);
      expect(refused.body).toEqual({ error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' });
      expect(refused.headers.get('access-control-allow-origin')).toBe('*');
      clock.advance(600); // 2/s drains 1.2 requests: room for exactly one more
      expect((await rest(portal.client_endpoint, 'profile', {}, token)).status).toBe(200);
      expect((await rest(portal.client_endpoint, 'profile', {}, token)).status).toBe(503);
    } finally {
      clock.release();
    }
    const stats = await bed.emu.stats(portal.member_id);
    expect(stats.rate_limited).toBe(2);
    expect(stats.rest_calls).toBe(53);
  });

  it('keeps one bucket per portal', async () => {
    const a = await bed.emu.createPortal();
    const b = await bed.emu.createPortal();
    const tokenA = (await bed.emu.install(a.member_id)).launch.form.AUTH_ID;
    const tokenB = (await bed.emu.install(b.member_id)).launch.form.AUTH_ID;
    await Promise.all(Array.from({ length: 51 }, () => rest(a.client_endpoint, 'profile', {}, tokenA)));
    expect((await rest(a.client_endpoint, 'profile', {}, tokenA)).status).toBe(503);
    expect((await rest(b.client_endpoint, 'profile', {}, tokenB)).status).toBe(200);
  });
});

describe('configurable limits', () => {
  it('honours configured rate and burst', async () => {
    const bed = await startTestBed({ rate: 100, burst: 5 });
    try {
      const portal = await bed.emu.createPortal();
      const token = (await bed.emu.install(portal.member_id)).launch.form.AUTH_ID;
      const clock = frozenClock();
      try {
        const answers = await Promise.all(Array.from({ length: 6 }, () => rest(portal.client_endpoint, 'profile', {}, token)));
        expect(answers.filter((a) => a.status === 503)).toHaveLength(1);
        clock.advance(30); // 100/s drains 3 requests
        expect((await rest(portal.client_endpoint, 'profile', {}, token)).status).toBe(200);
      } finally {
        clock.release();
      }
    } finally {
      await bed.stop();
    }
  });

  it('injects latency and blocks a method past its operating limit with 429, also inside batch', async () => {
    const bed = await startTestBed({ latencyMs: 40, operatingLimitSeconds: 0.06, burst: 1000 });
    try {
      const portal = await bed.emu.createPortal();
      const token = (await bed.emu.install(portal.member_id)).launch.form.AUTH_ID;
      const started = Date.now();
      const first = await rest(portal.client_endpoint, 'user.current', {}, token);
      expect(Date.now() - started).toBeGreaterThanOrEqual(35);
      expect(first.body.time.operating).toBeGreaterThanOrEqual(0.035);
      expect((await rest(portal.client_endpoint, 'user.current', {}, token)).status).toBe(200);
      const blocked = await rest(portal.client_endpoint, 'user.current', {}, token);
      expect(blocked.status).toBe(429);
      expect(blocked.body.error).toBe('OPERATION_TIME_LIMIT');
      expect((await rest(portal.client_endpoint, 'profile', {}, token)).status).toBe(200);
      const inBatch = await rest(portal.client_endpoint, 'batch', { cmd: { u: 'user.current', p: 'profile' } }, token);
      expect(inBatch.status).toBe(200);
      expect(inBatch.body.result.result_error.u.error).toBe('OPERATION_TIME_LIMIT');
      expect(inBatch.body.result.result.p.ID).toBe('1');
    } finally {
      await bed.stop();
    }
  });
});
