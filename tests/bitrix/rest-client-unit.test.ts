/**
 * The REST client's decisions, against a scripted fetch: what is retried and what is not, timeouts,
 * where tokens may and may not go, and what a caller sees when things fail.
 */
import { describe, expect, it } from 'bun:test';
import { toAppError, type BitrixError } from '../../src/bitrix/index.ts';
import { AppError } from '../../src/domain/errors.ts';
import { fail, fakePortal, json, ok, type Script } from './helpers/fake-portal.ts';
import { ACCESS, REFRESH, scriptedBitrix } from './helpers/scripted-bitrix.ts';

const setup = scriptedBitrix;

const caught = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as BitrixError;
  }
  throw new Error('expected a rejection');
};

describe('RestClient.call', () => {
  it('posts JSON to the stored client endpoint with auth in the body and returns the envelope', async () => {
    const { client, seen } = await setup(() => ok([{ ID: '1' }], { total: 1 }));
    const res = await client.call('user.get', { FILTER: { ID: 1 } });
    expect(res.result).toEqual([{ ID: '1' }]);
    expect(res.total).toBe(1);
    expect(seen[0]?.url).toBe('https://portal.example/rest/user.get');
    expect(seen[0]?.body).toEqual({ FILTER: { ID: 1 }, auth: ACCESS });
  });

  it('retries QUERY_LIMIT_EXCEEDED with back-off, even for writes (the server did not run them)', async () => {
    const { client, seen } = await setup((_r, n) => (n <= 2 ? fail('QUERY_LIMIT_EXCEEDED', 503, 'Too many requests') : ok(42)));
    expect((await client.call('calendar.event.add', { name: 'x' })).result).toBe(42);
    expect(seen.length).toBe(3);
  });

  it('gives up after the bounded number of retries with a typed error', async () => {
    const { client, seen } = await setup(() => fail('QUERY_LIMIT_EXCEEDED', 503, 'Too many requests'));
    const e = await caught(client.call('user.current'));
    expect(e.code).toBe('QUERY_LIMIT_EXCEEDED');
    expect(e.status).toBe(503);
    expect(e.method).toBe('user.current');
    expect(seen.length).toBe(4);
    expect(toAppError(e)).toBeInstanceOf(AppError);
    expect((toAppError(e) as AppError).code).toBe('rate_limited');
  });

  it('retries a 5xx for a read but never repeats a write', async () => {
    const read = await setup((_r, n) => (n === 1 ? fail('INTERNAL_SERVER_ERROR', 500) : ok({ ID: '1' })));
    expect((await read.client.call('user.current')).result).toEqual({ ID: '1' });
    expect(read.seen.length).toBe(2);

    const write = await setup(() => fail('INTERNAL_SERVER_ERROR', 500));
    const e = await caught(write.client.call('calendar.event.add', { name: 'x' }));
    expect(e.code).toBe('INTERNAL_SERVER_ERROR');
    expect(write.seen.length).toBe(1);
    expect((toAppError(e) as AppError).code).toBe('upstream');
  });

  it('times out a hanging request; a read is retried, a write is not', async () => {
    const hang: Script = () => new Promise<Response>(() => {});
    const write = await setup(hang, { timeoutMs: 50 });
    const e = await caught(write.client.call('calendar.event.add'));
    expect(e.code).toBe('REQUEST_TIMEOUT');
    expect(write.seen.length).toBe(1);

    const read = await setup((_r, n) => (n === 1 ? new Promise<Response>(() => {}) : ok('pong')), { timeoutMs: 50 });
    expect((await read.client.call('user.current')).result).toBe('pong');
    expect(read.seen.length).toBe(2);
  });

  it('does not pass on a 4xx method error as retryable', async () => {
    const { client, seen } = await setup(() => fail('ERROR_ARGUMENT', 400, 'bad PLACEMENT'));
    const e = await caught(client.call('placement.bind', {}));
    expect(e.code).toBe('ERROR_ARGUMENT');
    expect(e.description).toBe('bad PLACEMENT');
    expect(seen.length).toBe(1);
  });

  it('waits for the operating-limit reset on 429 and then succeeds', async () => {
    const resetAt = Math.floor(Date.now() / 1000) + 1;
    const { client, seen } = await setup((_r, n) =>
      n === 1
        ? json({ result: [], time: { operating: 100, operating_reset_at: resetAt } })
        : n === 2
          ? fail('OPERATION_TIME_LIMIT', 429, 'Method is blocked due to operation time limit.')
          : ok(['done']),
    );
    await client.call('crm.deal.list');
    const t0 = Date.now();
    expect((await client.call('crm.deal.list')).result).toEqual(['done']);
    expect(seen.length).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(resetAt * 1000 - t0 - 50);
  });

  it('refuses a 429 whose reset is further away than the wait budget', async () => {
    const { client, seen } = await setup(() => fail('OPERATION_TIME_LIMIT', 429), {
      retry: { maxOperatingWaitMs: 100, baseDelayMs: 5 },
      operating: { fallbackBlockMs: 10_000 },
    });
    const e = await caught(client.call('crm.deal.list'));
    expect(e.code).toBe('OPERATION_TIME_LIMIT');
    expect(seen.length).toBe(1);
  });

  it('slows a method down when time.operating nears the limit', async () => {
    const { client } = await setup(() => json({ result: 1, time: { operating: 470, operating_reset_at: Math.floor(Date.now() / 1000) + 600 } }), {
      operating: { limitSec: 480, maxSlowdownMs: 300 },
    });
    await client.call('crm.deal.list');
    const t0 = Date.now();
    await client.call('crm.deal.list');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
  });

  it('keeps tokens out of error messages even when the server echoes them', async () => {
    const { client } = await setup(() => fail('ERROR_CORE', 400, `bad auth ${ACCESS} given`));
    const e = await caught(client.call('user.current'));
    expect(e.message).not.toContain(ACCESS);
    expect(e.description).toContain('[redacted]');
    expect(JSON.stringify({ ...e, m: e.message })).not.toContain(ACCESS);
  });

  it('rejects method names that could reach another path', async () => {
    const { client, seen } = await setup(() => ok(1));
    expect((await caught(client.call('../oauth/token'))).code).toBe('ENDPOINT_REFUSED');
    expect(seen.length).toBe(0);
  });
});

describe('per-portal limits', () => {
  it('setLimits overrides one portal\'s bucket (one slot of headroom below the server\'s burst)', async () => {
    const { bitrix, client, tokens, seen } = await setup(() => ok(1));
    await tokens.save(2, { kind: 'app' }, 1, { accessToken: ACCESS, refreshToken: REFRESH, expiresAt: Math.floor(Date.now() / 1000) + 3600, scope: 'user' });
    bitrix.setLimits(fakePortal(), { rate: 10, burst: 2 });
    const other = bitrix.client(fakePortal({ id: 2, clientEndpoint: 'https://other.example/rest/' }), { kind: 'app' });
    const t0 = Date.now();
    const limited = Promise.all(Array.from({ length: 4 }, () => client.call('user.current')));
    await Promise.all(Array.from({ length: 4 }, () => other.call('user.current')));
    await limited;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    // The limited portal's bucket held three of its four back (100, 200, 300 ms). The other portal's
    // four, started after them, did not queue behind them: all went out before the limited second.
    const hosts = seen.map((r) => new URL(r.url).host);
    expect(hosts.filter((h) => h === 'other.example')).toHaveLength(4);
    expect(hosts.slice(-3)).toEqual(Array(3).fill('portal.example'));
  });
});

describe('toAppError', () => {
  it('maps dead tokens to unauthorized, limits to rate_limited, the rest to upstream, and leaves other errors alone', async () => {
    const { BitrixError } = await import('../../src/bitrix/index.ts');
    const map = (code: string) => toAppError(new BitrixError(code, '', 0, 'user.current')).code;
    expect(map('TOKENS_DEAD')).toBe('unauthorized');
    expect(map('expired_token')).toBe('unauthorized');
    expect(map('QUERY_LIMIT_EXCEEDED')).toBe('rate_limited');
    expect(map('OPERATION_TIME_LIMIT')).toBe('rate_limited');
    expect(map('ERROR_CORE')).toBe('upstream');
    expect(map('REQUEST_TIMEOUT')).toBe('upstream');
    const other = new TypeError('bug');
    expect(toAppError(other)).toBe(other);
  });
});

describe('endpoint policy', () => {
  it('refuses a plain-http client endpoint when the OAuth server is https', async () => {
    const { bitrix, seen } = await setup(() => ok(1));
    const c = bitrix.client(fakePortal({ clientEndpoint: 'http://portal.example/rest/' }), { kind: 'app' });
    expect((await caught(c.call('user.current'))).code).toBe('ENDPOINT_REFUSED');
    expect(seen.length).toBe(0);
  });

  it("refuses a portal whose OAuth server is not allow-listed, and app.info at such a server", async () => {
    const { bitrix, seen } = await setup(() => ok(1));
    const c = bitrix.client(fakePortal({ serverEndpoint: 'https://evil.example/rest/' }), { kind: 'app' });
    expect((await caught(c.call('user.current'))).code).toBe('ENDPOINT_REFUSED');
    expect((await caught(bitrix.oauth.appInfo('https://evil.example', ACCESS))).code).toBe('ENDPOINT_REFUSED');
    expect(seen.length).toBe(0);
  });

  it('callWithToken refuses http when no allowed OAuth server is http, and uses the token as given', async () => {
    const { bitrix, seen } = await setup(() => ok({ ID: '7' }));
    expect((await caught(bitrix.callWithToken('http://portal.example/rest/', 'tkn-0123456789', 'user.current'))).code).toBe('ENDPOINT_REFUSED');
    const res = await bitrix.callWithToken('https://portal.example/rest', 'tkn-0123456789', 'user.current');
    expect(res.result).toEqual({ ID: '7' });
    expect(seen[0]?.url).toBe('https://portal.example/rest/user.current');
    expect(seen[0]?.body.auth).toBe('tkn-0123456789');
  });
});
