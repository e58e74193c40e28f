/**
 * The one error the Bitrix24 client throws. `code` is Bitrix24's own (`QUERY_LIMIT_EXCEEDED`,
 * `expired_token`, `invalid_grant`, …) or one of ours (`LocalCode`) for failures that never got an answer.
 * What the client does with each code is in one table, error-codes.ts.
 * Messages carry the method and the code, never a token: descriptions from the server are scrubbed
 * of the token that was sent (see `scrubSecrets`) before they get here.
 */
import { AppError } from '../domain/errors.ts';
import { codeRow } from './error-codes.ts';

export { LocalCode } from './error-codes.ts';

export class BitrixError extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
    /** HTTP status of the answer; 0 when there was none (network, timeout, refused locally). */
    readonly status: number,
    readonly method: string,
    /** True when Bitrix24 certainly did not run the method (limits, auth), so a retry is no duplicate. */
    readonly notExecuted = false,
    /**
     * For TOKENS_DEAD: the OAuth server's code (`invalid_grant`, `invalid_client`, …) of a refusal
     * just now, here or by another process minutes ago (token-keeper.ts, REFUSAL_FRESH_SEC). Absent
     * when the tokens died longer ago or for an unknown reason, so nobody reads an old refusal as news
     * about the app's install.
     */
    readonly refusal?: string,
    /**
     * True when `refusal` is one a refresh before this call stored with the dead row (this process's or
     * another's), false when this call's own refresh just got it. Only an own refusal is an answer: a
     * stored one may come from an instance with another client secret (portal-uninstall.ts asks again).
     */
    readonly refusalStored = false,
  ) {
    super(`${method}: ${code}${description ? ` (${description})` : ''}`);
    this.name = 'BitrixError';
  }
}

export const isBitrixError = (e: unknown): e is BitrixError => e instanceof BitrixError;

/**
 * Bitrix24 gave no verdict: nobody answered, the answer was a fault (5xx), or a limit held the call
 * back (the table's `unanswered`). Such a failure says nothing about a token or an install, so nobody
 * may read it as a refusal.
 */
export const isUnanswered = (e: BitrixError): boolean => codeRow(e.code).unanswered === true || e.status >= 500 || e.status === 429;

/**
 * Maps a client failure to the app's error at the HTTP edge. Dead or missing tokens mean the user
 * (or the admin, for app tokens) must open the app again: `unauthorized`. Limits that outlasted our
 * retries: `rate_limited`. Everything else Bitrix24 said or failed to say: `upstream`. Which is
 * which is the table's `appError`.
 * Non-Bitrix errors pass through untouched so the edge can treat them as bugs.
 */
export function toAppError(e: BitrixError): AppError;
export function toAppError(e: unknown): unknown;
export function toAppError(e: unknown): unknown {
  if (!isBitrixError(e)) return e;
  const { appError } = codeRow(e.code);
  if (appError === 'unauthorized') return new AppError('unauthorized', 'Bitrix24 authorization is no longer valid; open the app again');
  if (appError === 'rate_limited') return new AppError('rate_limited', 'Bitrix24 is rate limiting this portal; try again shortly');
  if (appError === 'payment_required') return new AppError('payment_required', "The app's subscription on this portal has expired; a portal administrator can renew it");
  return new AppError('upstream', `Bitrix24 call ${e.method} failed (${e.code})`);
}

/** Removes every given secret from a server-provided text, and bounds its length. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text.length > 500 ? `${text.slice(0, 500)}…` : text;
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join('[redacted]');
  return out;
}
