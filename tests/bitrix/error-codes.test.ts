/**
 * The error-code table (src/bitrix/error-codes.ts) against Bitrix24's documented codes and against the
 * client's behaviour. Each code below is written down with its documented status and what the client
 * does with it; the test checks that the table says so and that a scripted portal answering the code
 * gets exactly that: how often a read and a write are sent, whether the token is renewed or marked
 * dead, and what the caller sees.
 *
 * Codes and statuses from github.com/bitrix24/b24restdocs: `_includes/system-errors.md`, `limits.md`,
 * `api-reference/rest-v3.md`, `settings/oauth/error-codes.md`; the codes those pages do not list (and
 * the OAuth statuses, which they do not give) from the platform notes, bitrix24-platform.md §3, §4.
 */
import { describe, expect, it } from 'bun:test';
import { askBitrixAboutInstall } from '../../src/auth/portal-uninstall.ts';
import { BitrixError, isUnanswered, toAppError } from '../../src/bitrix/index.ts';
import { RECHECK_QUIET_MS, REFUSAL_FRESH_SEC } from '../../src/bitrix/token-keeper.ts';
import { codeRow, errorCodes, isTransient } from '../../src/bitrix/error-codes.ts';
import { fail, fakePortal, json, type Script } from './helpers/fake-portal.ts';
import { scriptedBitrix } from './helpers/scripted-bitrix.ts';

type AppErrorCode = 'unauthorized' | 'rate_limited' | 'payment_required' | 'upstream';

/** What the client does with a REST answer carrying the code: resend after a wait, renew the token once, resend reads only, or give up. */
interface RestCase {
  code: string;
  status: number;
  does: 'retry' | 'renew token' | 'transient' | 'surface';
  notExecuted: boolean;
  appError: AppErrorCode;
  unanswered: boolean;
}

const restCodes: RestCase[] = [
  // _includes/system-errors.md
  { code: 'INTERNAL_SERVER_ERROR', status: 500, does: 'transient', notExecuted: false, appError: 'upstream', unanswered: true },
  { code: 'ERROR_UNEXPECTED_ANSWER', status: 500, does: 'transient', notExecuted: false, appError: 'upstream', unanswered: true },
  { code: 'QUERY_LIMIT_EXCEEDED', status: 503, does: 'retry', notExecuted: true, appError: 'rate_limited', unanswered: true },
  { code: 'ERROR_BATCH_METHOD_NOT_ALLOWED', status: 405, does: 'surface', notExecuted: false, appError: 'upstream', unanswered: false },
  { code: 'ERROR_BATCH_LENGTH_EXCEEDED', status: 400, does: 'surface', notExecuted: false, appError: 'upstream', unanswered: false },
  { code: 'NO_AUTH_FOUND', status: 401, does: 'surface', notExecuted: true, appError: 'unauthorized', unanswered: false },
  { code: 'INVALID_REQUEST', status: 400, does: 'surface', notExecuted: false, appError: 'upstream', unanswered: false },
  { code: 'OVERLOAD_LIMIT', status: 503, does: 'transient', notExecuted: true, appError: 'rate_limited', unanswered: true },
  { code: 'ACCESS_DENIED', status: 403, does: 'surface', notExecuted: false, appError: 'upstream', unanswered: false },
  { code: 'INVALID_CREDENTIALS', status: 403, does: 'surface', notExecuted: false, appError: 'upstream', unanswered: false },
  { code: 'ERROR_MANIFEST_IS_NOT_AVAILABLE', status: 404, does: 'surface', notExecuted: false, appError: 'upstream', unanswered: false },
  { code: 'insufficient_scope', status: 403, does: 'surface', notExecuted: false, appError: 'upstream', unanswered: false },
  { code: 'expired_token', status: 401, does: 'renew token', notExecuted: true, appError: 'unauthorized', unanswered: false },
  { code: 'user_access_error', status: 403, does: 'surface', notExecuted: false, appError: 'upstream', unanswered: false },
  { code: 'PORTAL_DELETED', status: 500, does: 'transient', notExecuted: false, appError: 'upstream', unanswered: true },
  // limits.md
  { code: 'OPERATION_TIME_LIMIT', status: 429, does: 'retry', notExecuted: true, appError: 'rate_limited', unanswered: true },
  // api-reference/rest-v3.md
  { code: 'ERROR_METHOD_NOT_FOUND', status: 404, does: 'surface', notExecuted: true, appError: 'upstream', unanswered: false },
  // Not in b24restdocs: bitrix24-platform.md §3 (the server's OAuth exceptions default to 401).
  { code: 'invalid_token', status: 401, does: 'renew token', notExecuted: true, appError: 'unauthorized', unanswered: false },
  { code: 'ERROR_OAUTH', status: 401, does: 'surface', notExecuted: false, appError: 'unauthorized', unanswered: false },
  { code: 'authorization_error', status: 401, does: 'surface', notExecuted: false, appError: 'unauthorized', unanswered: false },
];

/** What a refusal of a refresh means: the tokens are dead for good (and, for one code, the app is gone), or a later refresh may try again. */
interface OAuthCase {
  code: string;
  status: number;
  dead: boolean;
  appGone: boolean;
  appError: AppErrorCode;
}

const oauthCodes: OAuthCase[] = [
  // settings/oauth/error-codes.md (statuses: bitrix24-platform.md §3)
  { code: 'invalid_request', status: 400, dead: false, appGone: false, appError: 'upstream' },
  { code: 'invalid_client', status: 400, dead: true, appGone: true, appError: 'upstream' },
  { code: 'insufficient_scope', status: 403, dead: false, appGone: false, appError: 'upstream' },
  { code: 'invalid_scope', status: 403, dead: false, appGone: false, appError: 'upstream' },
  { code: 'invalid_grant', status: 400, dead: true, appGone: false, appError: 'unauthorized' },
  // Not dead: the same refresh token works again once the portal pays.
  { code: 'PAYMENT_REQUIRED', status: 400, dead: false, appGone: false, appError: 'payment_required' },
  // Not in b24restdocs: bitrix24-platform.md §3 (wrong_client comes with HTTP 200).
  { code: 'wrong_client', status: 200, dead: true, appGone: false, appError: 'upstream' },
  { code: 'NOT_INSTALLED', status: 401, dead: true, appGone: false, appError: 'unauthorized' },
];

/** The client's own codes: what the runner and the edge do with them. */
const localCodes = [
  { code: 'NETWORK_ERROR', action: 'transient', appError: 'upstream', unanswered: true },
  { code: 'REQUEST_TIMEOUT', action: 'transient', appError: 'upstream', unanswered: true },
  { code: 'BAD_RESPONSE', action: 'surface', appError: 'upstream', unanswered: true },
  { code: 'NO_TOKENS', action: 'surface', appError: 'unauthorized', unanswered: false },
  { code: 'TOKENS_DEAD', action: 'surface', appError: 'unauthorized', unanswered: false },
  { code: 'ENDPOINT_REFUSED', action: 'surface', appError: 'upstream', unanswered: false },
  { code: 'BATCH_HALTED', action: 'surface', appError: 'upstream', unanswered: false },
] as const;

const isRefresh = (url: string) => url.includes('/oauth/token/');
const grant = () => json({ access_token: `a-${crypto.randomUUID()}`, refresh_token: `r-${crypto.randomUUID()}`, expires_in: 3600, member_id: 'm1', scope: 'user' });
const raw = (code: string, status: number) => new BitrixError(code, '', status, 'user.get');

const caught = async (p: Promise<unknown>): Promise<BitrixError> => {
  try {
    await p;
  } catch (e) {
    return e as BitrixError;
  }
  throw new Error('expected a rejection');
};

/** One call (a read or a write) against a portal that always answers `code`; refreshes succeed. */
async function callFailing(c: RestCase, method: string) {
  const script: Script = (req) => (isRefresh(req.url) ? grant() : fail(c.code, c.status, 'scripted'));
  const { client, seen } = await scriptedBitrix(script, { operating: { fallbackBlockMs: 2 } });
  const error = await caught(client.call(method, { ID: 1 }));
  return { error, sent: seen.filter((s) => !isRefresh(s.url)).length, refreshes: seen.filter((s) => isRefresh(s.url)).length };
}

describe('the error-code table', () => {
  it('lists no code this test does not pin down', () => {
    const pinned = new Set([...restCodes, ...oauthCodes, ...localCodes].map((c) => c.code));
    expect(Object.keys(errorCodes).filter((code) => !pinned.has(code))).toEqual([]);
  });

  it('classifies each documented REST error code with its documented status as the client handles it', () => {
    for (const c of restCodes) {
      const row = codeRow(c.code);
      const does = row.action === 'retry' || row.action === 'renew token' ? row.action : isTransient(c.code, c.status) ? 'transient' : 'surface';
      expect({ code: c.code, does, notExecuted: row.notExecuted === true, appError: toAppError(raw(c.code, c.status)).code, unanswered: isUnanswered(raw(c.code, c.status)) })
        .toEqual({ code: c.code, does: c.does, notExecuted: c.notExecuted, appError: c.appError, unanswered: c.unanswered });
    }
  });

  it('waits before a retry by the limit: back off for the request rate, the operating reset for the method', () => {
    expect(codeRow('QUERY_LIMIT_EXCEEDED').wait).toBe('back off');
    expect(codeRow('OPERATION_TIME_LIMIT').wait).toBe('operating reset');
    expect(codeRow('OVERLOAD_LIMIT').wait).toBeUndefined();
  });

  it('classifies each OAuth refusal: dead for good or worth another refresh, and only invalid_client proves the app gone', () => {
    for (const c of oauthCodes) {
      const row = codeRow(c.code);
      expect({ code: c.code, dead: row.action === 'dead refresh', appGone: row.appGone === true, appError: toAppError(raw(c.code, c.status)).code })
        .toEqual({ code: c.code, dead: c.dead, appGone: c.appGone, appError: c.appError });
    }
  });

  it("classifies the client's own codes", () => {
    for (const c of localCodes) {
      expect({ code: c.code, action: codeRow(c.code).action, appError: toAppError(raw(c.code, 0)).code, unanswered: isUnanswered(raw(c.code, 0)) }).toEqual({ ...c });
    }
  });

  it('matches codes exactly: another case or an inherited property name is an unlisted code', () => {
    expect(codeRow('expired_token').action).toBe('renew token');
    for (const code of ['EXPIRED_TOKEN', 'query_limit_exceeded', 'constructor', '__proto__', 'toString', '']) {
      expect(codeRow(code)).toEqual({ action: 'surface', appError: 'upstream' });
    }
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(errorCodes)).toBe(true);
  });
});

describe('the client, answered with each documented REST error code', () => {
  // A read may be sent again after an answer it cannot trust, a write only when Bitrix24 surely did not run it.
  const expected = { retry: [4, 4], 'renew token': [2, 2], transient: [4, 1], surface: [1, 1] } as const; // maxRetries 3

  for (const c of restCodes) {
    it(`${c.code} (${c.status}): ${c.does}`, async () => {
      const [reads, writes] = expected[c.does];
      for (const [method, sends] of [['crm.deal.get', reads], ['crm.deal.add', writes]] as const) {
        const { error, sent, refreshes } = await callFailing(c, method);
        expect({ method, code: error.code, sent, refreshes, notExecuted: error.notExecuted, appError: toAppError(error).code, unanswered: isUnanswered(error) })
          .toEqual({ method, code: c.code, sent: sends, refreshes: c.does === 'renew token' ? 1 : 0, notExecuted: c.notExecuted, appError: c.appError, unanswered: c.unanswered });
      }
    });
  }
});

describe('the client, its refresh refused with each documented OAuth error code', () => {
  for (const c of oauthCodes) {
    it(`${c.code} (${c.status}): ${c.dead ? 'tokens dead, never refreshed again' : 'surfaced, refreshed again next time'}`, async () => {
      const script: Script = (req) => (isRefresh(req.url) ? json({ error: c.code, error_description: 'scripted' }, c.status) : fail('expired_token', 401));
      const now = { ms: Date.now() };
      const { bitrix, client, seen, tokens } = await scriptedBitrix(script, { nowMs: () => now.ms });
      const first = await caught(client.call('crm.deal.get'));
      const second = await caught(client.call('crm.deal.get'));
      const refreshes = seen.filter((s) => isRefresh(s.url)).length;
      if (c.dead) {
        // The dead row repeats the refusal that killed it for REFUSAL_FRESH_SEC, without a request, marked
        // as stored (the first call's own refusal is not); after that it says only "dead".
        expect([first.code, first.refusal, first.refusalStored, second.code, second.refusal, second.refusalStored, refreshes]).toEqual([
          'TOKENS_DEAD', c.code, false, 'TOKENS_DEAD', c.code, true, 1,
        ]);
        // An uninstall check takes no stored refusal as its answer (another instance may have another
        // client secret): it asks again itself, one more refresh, whose own answer (the same here) decides.
        expect(await askBitrixAboutInstall(bitrix, fakePortal())).toBe(c.appGone ? 'gone' : 'dead');
        expect(seen.filter((s) => isRefresh(s.url)).length).toBe(2);
        tokens.rows.get('1:app')!.refusal!.at -= REFUSAL_FRESH_SEC + 1;
        const later = await caught(client.call('crm.deal.get'));
        expect([later.code, later.refusal]).toEqual(['TOKENS_DEAD', undefined]);
        // Past the window the row keeps no refusal to show; the check's own answer of a moment ago
        // stands (RECHECK_QUIET_MS) without a request, and after it the check asks again.
        expect(await askBitrixAboutInstall(bitrix, fakePortal())).toBe(c.appGone ? 'gone' : 'dead');
        expect(seen.filter((s) => isRefresh(s.url)).length).toBe(2);
        now.ms += RECHECK_QUIET_MS + 1;
        expect(await askBitrixAboutInstall(bitrix, fakePortal())).toBe(c.appGone ? 'gone' : 'dead');
      } else {
        expect([first.code, second.code, refreshes]).toEqual([c.code, c.code, 2]);
      }
      expect(seen.length).toBe(4); // dead: the call and its refresh, then only the uninstall checks' own refreshes (two: the second stood for a while)
      if (c.dead) {
        const { bitrix: fresh } = await scriptedBitrix(script);
        expect(await askBitrixAboutInstall(fresh, fakePortal())).toBe(c.appGone ? 'gone' : 'dead');
      }
    });
  }
});
