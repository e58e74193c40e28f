/**
 * What Bitrix24's answers to the app's own tokens say about an install (askBitrixAboutInstall), against
 * a scripted fetch: only a refresh refused with `invalid_client` is proof the app is gone. Limits, 5xx
 * and timeouts — which any user can cause by exhausting the portal's REST limit with their own token —
 * never are, and neither is a refresh token that merely died.
 */
import { describe, expect, it } from 'bun:test';
import { askBitrixAboutInstall } from '../../src/auth/portal-uninstall.ts';
import { fail, fakePortal, json, ok, type Script } from './helpers/fake-portal.ts';
import { scriptedBitrix } from './helpers/scripted-bitrix.ts';

async function verdictFor(script: Script, stored = true) {
  return (await ask(script, stored)).verdict;
}

async function ask(script: Script, stored = true) {
  const { bitrix, seen } = await scriptedBitrix(script, { stored, retry: { baseDelayMs: 1, maxDelayMs: 2, maxRetries: 2 }, timeoutMs: 100 });
  return { verdict: await askBitrixAboutInstall(bitrix, fakePortal()), requests: seen.length };
}

const isRefresh = (url: string) => url.includes('/oauth/token/');
const refreshAnswer = (answer: Response): Script => (req) => (isRefresh(req.url) ? answer : fail('invalid_token', 401, 'revoked'));

describe('askBitrixAboutInstall', () => {
  it('installed: app.info answers with the stored tokens', async () => {
    expect(await verdictFor(() => ok({ ID: 1, INSTALLED: false }))).toBe('installed');
  });

  it('gone: the token is refused and its refresh answers invalid_client (the app is not installed there)', async () => {
    expect(await verdictFor(refreshAnswer(json({ error: 'invalid_client', error_description: 'Application not installed' }, 400)))).toBe('gone');
  });

  it('dead: the refresh answers invalid_grant, or there are no app tokens at all', async () => {
    expect(await verdictFor(refreshAnswer(json({ error: 'invalid_grant', error_description: 'Invalid refresh token' }, 400)))).toBe('dead');
    expect(await verdictFor(() => ok({}), false)).toBe('dead');
  });

  it('dead, never gone: a refresh answered for another portal (a planted refresh token)', async () => {
    const otherPortal = json({ access_token: 'a'.repeat(32), refresh_token: 'r'.repeat(32), expires_in: 3600, member_id: 'someone-else', scope: 'user' });
    expect(await verdictFor(refreshAnswer(otherPortal))).toBe('dead');
  });

  it('unreachable: the portal limit is exhausted, the portal fails with 5xx, or nobody answers', async () => {
    // One attempt, no back-off: the event handler answers at once and the periodic re-check asks again.
    expect(await ask(() => fail('QUERY_LIMIT_EXCEEDED', 503, 'Too many requests'))).toEqual({ verdict: 'unreachable', requests: 1 });
    expect(await verdictFor(() => fail('INTERNAL_SERVER_ERROR', 500))).toBe('unreachable');
    expect(await verdictFor(() => new Promise<Response>(() => {}))).toBe('unreachable');
    expect(await verdictFor(refreshAnswer(fail('INTERNAL_SERVER_ERROR', 502)))).toBe('unreachable');
  });
});
