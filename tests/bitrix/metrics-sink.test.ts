/**
 * What the client tells its metrics sink (createBitrix's `metrics`): each request sent with its method
 * and outcome, the limits Bitrix24 answered with, the waits a limit caused, and each refresh's outcome.
 * Against a scripted fetch (the stack's own counters are in tests/metrics/scrape.test.ts).
 */
import { describe, expect, it } from 'bun:test';
import { BitrixError } from '../../src/bitrix/bitrix-error.ts';
import type { BitrixMetrics, LimitWait, RestOutcome } from '../../src/bitrix/index.ts';
import type { OAuthClient } from '../../src/bitrix/oauth-client.ts';
import { createTokenKeeper } from '../../src/bitrix/token-keeper.ts';
import { createMemoryTokenRepo } from './helpers/memory-token-repo.ts';
import { fail, fakePortal, ok } from './helpers/fake-portal.ts';
import { scriptedBitrix } from './helpers/scripted-bitrix.ts';

function recorder() {
  const calls: [string, RestOutcome][] = [];
  const refreshes: string[] = [];
  const waits: [LimitWait, number][] = [];
  const answers: string[] = [];
  const metrics: BitrixMetrics = {
    restCall: (method, outcome) => void calls.push([method, outcome]),
    tokenRefresh: (outcome) => void refreshes.push(outcome),
    limitWait: (reason, seconds) => void waits.push([reason, seconds]),
    limitAnswer: (code) => void answers.push(code),
  };
  return { metrics, calls, refreshes, waits, answers };
}

const settle = (p: Promise<unknown>) => p.then(() => 'ok', (e: BitrixError) => e.code);

describe('the REST client tells its metrics', () => {
  it('one outcome per request sent: limits, no verdict, the caller\'s error, ok', async () => {
    const r = recorder();
    const answers = [fail('QUERY_LIMIT_EXCEEDED', 503), fail('QUERY_LIMIT_EXCEEDED', 503), ok(1), fail('INTERNAL_SERVER_ERROR', 500), ok(2), fail('ERROR_METHOD_NOT_FOUND', 404)];
    const { client } = await scriptedBitrix((_req, n) => answers[n - 1]!, { metrics: r.metrics });
    expect(await settle(client.call('calendar.event.add', { name: 'x' }))).toBe('ok');
    expect(await settle(client.call('user.current'))).toBe('ok');
    expect(await settle(client.call('no.such.method'))).toBe('ERROR_METHOD_NOT_FOUND');
    expect(r.calls).toEqual([
      ['calendar.event.add', 'rate_limited'],
      ['calendar.event.add', 'rate_limited'],
      ['calendar.event.add', 'ok'],
      ['user.current', 'unanswered'],
      ['user.current', 'ok'],
      ['no.such.method', 'error'],
    ]);
    expect(r.answers).toEqual(['QUERY_LIMIT_EXCEEDED', 'QUERY_LIMIT_EXCEEDED']);
    // Each 503 was followed by a back-off (5-20 ms in this policy); the 5xx retry is no limit wait.
    const backoffs = r.waits.filter(([reason]) => reason === 'backoff');
    expect(backoffs).toHaveLength(2);
    for (const [, seconds] of backoffs) expect(seconds).toBeGreaterThan(0);
  });

  it('counts an OPERATION_TIME_LIMIT answer and the method held until its reset', async () => {
    const r = recorder();
    const { client } = await scriptedBitrix(() => fail('OPERATION_TIME_LIMIT', 429), { metrics: r.metrics, retry: { maxOperatingWaitMs: 0 } });
    expect(await settle(client.call('crm.deal.list'))).toBe('OPERATION_TIME_LIMIT');
    expect(r.answers).toEqual(['OPERATION_TIME_LIMIT']);
    expect(r.calls).toEqual([['crm.deal.list', 'rate_limited']]);
  });

  it('reports the waits its own bucket imposed, in seconds', async () => {
    const r = recorder();
    // Burst 2 less the one-slot headroom: one call at once, then one every 100 ms.
    const { client } = await scriptedBitrix(() => ok(1), { metrics: r.metrics, limits: { rate: 10, burst: 2 } });
    await Promise.all([client.call('user.current'), client.call('user.current'), client.call('user.current')]);
    const bucket = r.waits.filter(([reason]) => reason === 'bucket');
    expect(bucket).toHaveLength(2);
    // The later call waited for two slots to drain: at least most of 200 ms (lower bounds only).
    expect(Math.max(...bucket.map(([, s]) => s))).toBeGreaterThan(0.15);
    expect(r.calls).toEqual([['user.current', 'ok'], ['user.current', 'ok'], ['user.current', 'ok']]);
  });

  it('names a dead token unauthorized and the refresh dead', async () => {
    const r = recorder();
    const { client } = await scriptedBitrix(
      (req) => (req.url.includes('/oauth/token') ? fail('invalid_grant', 400) : fail('expired_token', 401)),
      { metrics: r.metrics },
    );
    expect(await settle(client.call('user.current'))).toBe('TOKENS_DEAD');
    expect(r.calls).toEqual([['user.current', 'unauthorized']]);
    expect(r.refreshes).toEqual(['dead']);
  });
});

describe('the token keeper tells its metrics', () => {
  const portal = fakePortal();
  const owner = { kind: 'user', userId: 3 } as const;
  const nowSec = () => Math.floor(Date.now() / 1000);
  const oauthAnswering = (answer: () => Promise<never> | Promise<Awaited<ReturnType<OAuthClient['refresh']>>>): OAuthClient => ({
    refresh: answer,
    exchangeCode: async () => { throw new Error('unused'); },
    appInfo: async () => { throw new Error('unused'); },
  });

  it('ok for new tokens, failed for an unclear answer, dead for a refusal', async () => {
    const r = recorder();
    const tokens = createMemoryTokenRepo();
    await tokens.save(portal.id, owner, 3, { accessToken: 'a0', refreshToken: 'r0', expiresAt: nowSec() - 10, scope: 'user' });
    const outcomes = [
      () => Promise.reject(new BitrixError('NETWORK_ERROR', 'down', 0, 'oauth.refresh')),
      () => Promise.resolve({ tokens: { accessToken: 'a1', refreshToken: 'r1', expiresAt: nowSec() - 10, scope: 'user' }, memberId: portal.memberId, userId: 3, clientEndpoint: portal.clientEndpoint, serverEndpoint: portal.serverEndpoint, status: 'L' }),
      () => Promise.reject(new BitrixError('invalid_grant', 'spent', 400, 'oauth.refresh')),
    ];
    let n = 0;
    const keeper = createTokenKeeper({ tokens, oauth: oauthAnswering(() => outcomes[n++]!() as never), metrics: r.metrics });
    expect(await settle(keeper.current(portal, owner))).toBe('NETWORK_ERROR');
    expect(await settle(keeper.current(portal, owner))).toBe('ok');
    // The new pair is already expired by the stored time: the next use refreshes again, and is refused.
    expect(await settle(keeper.current(portal, owner))).toBe('TOKENS_DEAD');
    expect(r.refreshes).toEqual(['failed', 'ok', 'dead']);
  });
});
