/**
 * The refresh protocol in isolation: several keepers sharing one TokenRepo stand for several
 * processes sharing one database; a fake OAuth server counts the refresh requests that reach it and,
 * like Bitrix24, accepts each refresh token once.
 */
import { describe, expect, it } from 'bun:test';
import { BitrixError } from '../../src/bitrix/bitrix-error.ts';
import type { OAuthClient, OAuthGrant } from '../../src/bitrix/oauth-client.ts';
import { createTokenKeeper, RECHECK_QUIET_MS, REFRESH_LEASE_SEC, REFUSAL_FRESH_SEC, refreshTimeoutMs } from '../../src/bitrix/token-keeper.ts';
import type { StoredTokens, TokenOwner } from '../../src/domain/types.ts';
import { createMemoryTokenRepo } from './helpers/memory-token-repo.ts';
import { fakePortal } from './helpers/fake-portal.ts';
import { waitFor } from '../support/wait-for.ts';

const owner: TokenOwner = { kind: 'user', userId: 3 };
const portal = fakePortal();
const nowSec = () => Math.floor(Date.now() / 1000);

/**
 * `delayMs` is how long the fake server takes to answer (the time other callers find a refresh in
 * flight); `hold`, when given, keeps every answer back until the test resolves it instead.
 */
function fakeOAuth(opts: { delayMs?: number; hold?: Promise<void>; fail?: (n: number) => BitrixError | null } = {}) {
  const valid = new Set(['r0']);
  let n = 0;
  const oauth: OAuthClient & { requests: () => number } = {
    requests: () => n,
    async refresh(_server, refreshToken): Promise<OAuthGrant> {
      n++;
      await (opts.hold ?? Bun.sleep(opts.delayMs ?? 20));
      const err = opts.fail?.(n);
      if (err) throw err;
      if (!valid.delete(refreshToken)) throw new BitrixError('invalid_grant', 'Invalid grant', 400, 'oauth.refresh');
      valid.add(`r${n}`);
      return {
        tokens: { accessToken: `a${n}`, refreshToken: `r${n}`, expiresAt: nowSec() + 3600, scope: 'user' },
        memberId: 'm1', userId: 3, clientEndpoint: portal.clientEndpoint, serverEndpoint: portal.serverEndpoint, status: 'L',
      };
    },
    exchangeCode: async () => { throw new Error('unused'); },
    appInfo: async () => { throw new Error('unused'); },
  };
  return oauth;
}

async function seeded(expiresAt = nowSec() - 10) {
  const tokens = createMemoryTokenRepo();
  await tokens.save(portal.id, owner, 3, { accessToken: 'a0', refreshToken: 'r0', expiresAt, scope: 'user' });
  return tokens;
}

/** The same row, found dead by another process (its refresh token r0 still good), with `patch` over it. */
async function seededDead(patch: Partial<StoredTokens> = {}) {
  const tokens = await seeded();
  Object.assign(tokens.rows.get(`${portal.id}:3`)!, { dead: true, ...patch });
  return tokens;
}

describe('token keeper', () => {
  it('refreshes once for many concurrent callers of one keeper', async () => {
    const tokens = await seeded();
    const oauth = fakeOAuth();
    const keeper = createTokenKeeper({ tokens, oauth });
    const got = await Promise.all(Array.from({ length: 30 }, () => keeper.current(portal, owner)));
    expect(oauth.requests()).toBe(1);
    expect(new Set(got.map((t) => t.accessToken))).toEqual(new Set(['a1']));
  });

  it('refreshes once across keepers that share the store (the CAS loser waits for the winner)', async () => {
    const tokens = await seeded();
    const oauth = fakeOAuth({ delayMs: 60 });
    const keepers = [1, 2, 3].map(() => createTokenKeeper({ tokens, oauth, pollMs: 5 }));
    const got = await Promise.all(keepers.flatMap((k) => Array.from({ length: 10 }, () => k.current(portal, owner))));
    expect(oauth.requests()).toBe(1);
    expect(new Set(got.map((t) => t.accessToken))).toEqual(new Set(['a1']));
    const row = await tokens.find(portal.id, owner);
    expect(row?.expiresAt).toBeGreaterThan(nowSec());
  });

  it('a 401 that arrives after someone else refreshed uses their tokens without refreshing again', async () => {
    const tokens = await seeded(nowSec() + 3600);
    const oauth = fakeOAuth();
    const keeper = createTokenKeeper({ tokens, oauth });
    const stale = await keeper.current(portal, owner);
    const first = await keeper.renew(portal, owner, stale);
    const late = await keeper.renew(portal, owner, stale);
    expect(first.accessToken).toBe('a1');
    expect(late.accessToken).toBe('a1');
    expect(oauth.requests()).toBe(1);
  });

  it('invalid_grant marks the row dead once; later calls fail at once without a request', async () => {
    const tokens = await seeded();
    await tokens.save(portal.id, owner, 3, { accessToken: 'a0', refreshToken: 'gone', expiresAt: nowSec() - 10, scope: 'user' });
    const oauth = fakeOAuth();
    const keeper = createTokenKeeper({ tokens, oauth });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => keeper.current(portal, owner)));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as BitrixError).code === 'TOKENS_DEAD')).toBe(true);
    expect(oauth.requests()).toBe(1);
    expect((await tokens.find(portal.id, owner))?.dead).toBe(true);
    await expect(keeper.current(portal, owner)).rejects.toMatchObject({ code: 'TOKENS_DEAD' });
    expect(oauth.requests()).toBe(1);
  });

  it('a dead row repeats its refusal only while it is fresh on this clock, and only if it is younger than the pair', async () => {
    const tokens = await seeded();
    await tokens.save(portal.id, owner, 3, { accessToken: 'a0', refreshToken: 'gone', expiresAt: nowSec() - 10, scope: 'user' });
    let now = Date.now();
    const keeper = createTokenKeeper({ tokens, oauth: fakeOAuth(), now: () => now });
    await expect(keeper.current(portal, owner)).rejects.toMatchObject({ code: 'TOKENS_DEAD', refusal: 'invalid_grant' });
    const row = tokens.rows.get(`${portal.id}:3`)!;
    expect(row.refusal).toEqual({ code: 'invalid_grant', at: Math.floor(now / 1000) });
    const refusalNow = () => keeper.current(portal, owner).catch((e: BitrixError) => e.refusal ?? null);
    now += REFUSAL_FRESH_SEC * 1000;
    expect(await refusalNow()).toBe('invalid_grant');
    now += 1000;
    expect(await refusalNow()).toBeNull();
    // Stamped ahead of this clock (another instance's runs fast): no answer, however long the skew.
    row.refusal = { code: 'invalid_grant', at: Math.floor(now / 1000) + 3600 };
    expect(await refusalNow()).toBeNull();
    // Older than the pair it is kept with (a binary before 009 wrote a new pair and left it): none.
    row.refusal = { code: 'invalid_grant', at: Math.floor(now / 1000) - 5 };
    row.issuedAt = Math.floor(now / 1000) - 1;
    expect(await refusalNow()).toBeNull();
    row.issuedAt = Math.floor(now / 1000) - 10;
    expect(await refusalNow()).toBe('invalid_grant');
  });

  it('with recordRefusals false (doctor), a refusal changes nothing stored: no dead row, no refusal, the lease given back', async () => {
    const tokens = await seeded();
    await tokens.save(portal.id, owner, 3, { accessToken: 'a0', refreshToken: 'gone', expiresAt: nowSec() - 10, scope: 'user' });
    const before = (await tokens.find(portal.id, owner))!;
    const oauth = fakeOAuth();
    const keeper = createTokenKeeper({ tokens, oauth, recordRefusals: false });
    await expect(keeper.current(portal, owner)).rejects.toMatchObject({ code: 'TOKENS_DEAD', refusal: 'invalid_grant' });
    expect(await tokens.find(portal.id, owner)).toMatchObject({ refreshToken: 'gone', dead: false, refusal: null, refreshLeaseUntil: null });
    expect((await tokens.find(portal.id, owner))!.version).toBeGreaterThan(before.version);
    // It asks again next time (nothing was written down), and still changes nothing.
    await expect(keeper.current(portal, owner)).rejects.toMatchObject({ code: 'TOKENS_DEAD' });
    expect(oauth.requests()).toBe(2);
  });

  it('recheckDead asks again about a dead row with its own credentials: new tokens revive it, a refusal keeps it dead', async () => {
    // Another process (with another client secret) found the pair refused: the row is dead, r0 still good.
    const tokens = await seededDead({ refusal: { code: 'invalid_client', at: nowSec() } });
    const oauth = fakeOAuth();
    const keeper = createTokenKeeper({ tokens, oauth });
    await expect(keeper.current(portal, owner)).rejects.toMatchObject({ code: 'TOKENS_DEAD', refusal: 'invalid_client', refusalStored: true });
    expect(oauth.requests()).toBe(0);
    expect(await keeper.recheckDead(portal, owner)).toMatchObject({ accessToken: 'a1', dead: false, refusal: null });
    expect(oauth.requests()).toBe(1);
    // A live row is returned as it is, without a request.
    expect((await keeper.recheckDead(portal, owner)).accessToken).toBe('a1');
    expect(oauth.requests()).toBe(1);
    // Refused again, by this keeper's own refresh: still dead, with its own refusal (not a stored one).
    const refusing = fakeOAuth({ fail: () => new BitrixError('invalid_client', 'Invalid client', 401, 'oauth.refresh') });
    const other = createTokenKeeper({ tokens, oauth: refusing });
    const stale = tokens.rows.get(`${portal.id}:3`)!;
    stale.dead = true;
    await expect(other.recheckDead(portal, owner)).rejects.toMatchObject({ code: 'TOKENS_DEAD', refusal: 'invalid_client', refusalStored: false });
    expect(await tokens.find(portal.id, owner)).toMatchObject({ dead: true, refusal: { code: 'invalid_client' }, refreshLeaseUntil: null });
  });

  it('recheckDead, once refused, repeats its own refusal for RECHECK_QUIET_MS without a request, for that row only', async () => {
    const tokens = await seededDead();
    let now = Date.now();
    const oauth = fakeOAuth({ fail: () => new BitrixError('invalid_grant', 'Invalid grant', 400, 'oauth.refresh') });
    const keeper = createTokenKeeper({ tokens, oauth, now: () => now });
    for (let i = 0; i < 5; i++) await expect(keeper.recheckDead(portal, owner)).rejects.toMatchObject({ code: 'TOKENS_DEAD', refusal: 'invalid_grant', refusalStored: false });
    expect(oauth.requests()).toBe(1);
    now += RECHECK_QUIET_MS + 1;
    await expect(keeper.recheckDead(portal, owner)).rejects.toMatchObject({ code: 'TOKENS_DEAD' });
    expect(oauth.requests()).toBe(2);
    // A row written since (a launch saved a new pair, which died again) is another row: asked at once.
    await tokens.save(portal.id, owner, 3, { accessToken: 'a9', refreshToken: 'r9', expiresAt: nowSec() - 10, scope: 'user' });
    tokens.rows.get(`${portal.id}:3`)!.dead = true;
    await expect(keeper.recheckDead(portal, owner)).rejects.toMatchObject({ code: 'TOKENS_DEAD' });
    expect(oauth.requests()).toBe(3);
  });

  it('recheckDead leaves a row another process is refreshing alone: no request, no answer', async () => {
    const tokens = await seededDead({ refreshLeaseUntil: nowSec() + 30 });
    const oauth = fakeOAuth();
    await expect(createTokenKeeper({ tokens, oauth }).recheckDead(portal, owner)).rejects.toMatchObject({ code: 'REQUEST_TIMEOUT' });
    expect(oauth.requests()).toBe(0);
  });

  it('gives the OAuth server less time than a refresh\'s lease, so nobody takes over a refresh still waiting for its answer', () => {
    expect(refreshTimeoutMs(65_000, REFRESH_LEASE_SEC)).toBe(15_000); // createBitrix's request timeout, the default lease
    // Half the lease: a process whose clock runs up to half a lease ahead still finds the lease held.
    for (const leaseSec of [1, 6, 30, 120]) expect(refreshTimeoutMs(65_000, leaseSec)).toBeLessThanOrEqual(leaseSec * 500);
    expect(refreshTimeoutMs(3_000, REFRESH_LEASE_SEC)).toBe(3_000); // a shorter request timeout stands
  });

  it('an unclear failure hands the row back so a later call can refresh', async () => {
    const tokens = await seeded();
    const oauth = fakeOAuth({ fail: (n) => (n === 1 ? new BitrixError('NETWORK_ERROR', 'down', 0, 'oauth.refresh') : null) });
    const keeper = createTokenKeeper({ tokens, oauth });
    await expect(keeper.current(portal, owner)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    const row = await tokens.find(portal.id, owner);
    expect(row).toMatchObject({ accessToken: 'a0', refreshToken: 'r0', refreshLeaseUntil: null, dead: false });
    expect((await keeper.current(portal, owner)).accessToken).toBe('a2');
  });

  it('takes over a lease left by a process that died mid-refresh', async () => {
    const tokens = await seeded();
    const row = await tokens.find(portal.id, owner);
    await tokens.claimRefresh(portal.id, owner, row!.version, nowSec() - 1);
    const oauth = fakeOAuth();
    const keeper = createTokenKeeper({ tokens, oauth });
    expect((await keeper.current(portal, owner)).accessToken).toBe('a1');
  });

  it('a fresh save during a refresh wins over the refreshed pair', async () => {
    const tokens = await seeded();
    let answer!: () => void;
    const oauth = fakeOAuth({ hold: new Promise<void>((r) => (answer = r)) });
    const keeper = createTokenKeeper({ tokens, oauth });
    const pending = keeper.current(portal, owner);
    await waitFor(() => oauth.requests() === 1, { what: 'the refresh request to reach the OAuth server' });
    await tokens.save(portal.id, owner, 3, { accessToken: 'launch', refreshToken: 'rl', expiresAt: nowSec() + 3600, scope: 'user' });
    answer();
    expect((await pending).accessToken).toBe('launch');
  });
});
