/**
 * The one table of error codes the Bitrix24 client treats by name, and what it does with each. Read by
 * the request runner (retry, renew, transient), the token keeper (dead refresh), the transport (not
 * executed), `toAppError` and `isUnanswered` (bitrix-error.ts), and the uninstall check (app gone).
 * A code not listed is surfaced to the caller as `upstream`, except that an answer with a 5xx status is
 * transient and no verdict whatever its code (`isTransient`, `isUnanswered`).
 *
 * Sources, from Bitrix24's documentation (github.com/bitrix24/b24restdocs):
 * - `_includes/system-errors.md` (shown in `error-codes.md`): errors any method may return, with their
 *   status. Besides the listed ones: 500 INTERNAL_SERVER_ERROR, ERROR_UNEXPECTED_ANSWER, PORTAL_DELETED
 *   (transient by their status); 400 INVALID_REQUEST, ERROR_BATCH_LENGTH_EXCEEDED; 403 ACCESS_DENIED,
 *   INVALID_CREDENTIALS, insufficient_scope, user_access_error; 404 ERROR_MANIFEST_IS_NOT_AVAILABLE;
 *   405 ERROR_BATCH_METHOD_NOT_ALLOWED (surfaced).
 * - `limits.md`: 503 QUERY_LIMIT_EXCEEDED ("retry calls with increasing delay"), 429
 *   OPERATION_TIME_LIMIT ("suspend calls to the blocked method", until `operating_reset_at`).
 * - `settings/oauth/error-codes.md`: the OAuth server's refusals of a code exchange or a refresh.
 *   Besides the listed ones: invalid_request, invalid_scope (surfaced; a later refresh may try again).
 * - `api-reference/rest-v3.md`: 404 ERROR_METHOD_NOT_FOUND.
 * Codes those pages do not list come from the platform notes (bitrix24-platform.md §3, §4: the SDKs and
 * the server's sources): invalid_token, ERROR_OAUTH, authorization_error, wrong_client, NOT_INSTALLED.
 *
 * Each row is what the client did before the codes were one table. Where its old sets disagreed, the
 * behaviour was kept:
 * - NO_AUTH_FOUND (an invalid access token) counts as unauthorized and not executed, but is not renewed.
 * - OVERLOAD_LIMIT (a manual block by support) is a limit to the caller and not executed, but is not
 *   waited on like the other limits: as a 503 it is retried for reads only, like any 5xx.
 * - Met raw (a code exchange, app.info), only invalid_grant and NOT_INSTALLED of the refresh refusals are
 *   `unauthorized`; invalid_client and wrong_client are `upstream`. After a refresh they all arrive as
 *   TOKENS_DEAD, which is `unauthorized`.
 * - PAYMENT_REQUIRED (a marketplace app whose trial or paid period ended) kills nothing: it is the
 *   portal's answer until someone pays, so it is surfaced as `payment_required` (402) everywhere.
 */

/** Codes the client makes up itself, for failures Bitrix24 did not describe. */
export const LocalCode = {
  network: 'NETWORK_ERROR',
  timeout: 'REQUEST_TIMEOUT',
  badResponse: 'BAD_RESPONSE',
  endpointRefused: 'ENDPOINT_REFUSED',
  noTokens: 'NO_TOKENS',
  tokensDead: 'TOKENS_DEAD',
  batchHalted: 'BATCH_HALTED',
} as const;

export type CodeAction =
  /** A limit refused the call: wait (see `wait`) and send it again, writes too. */
  | 'retry'
  /** The access token was refused: renew it once (single-flight, see token-keeper) and send again. */
  | 'renew token'
  /** A refresh was refused for good: mark the tokens dead, surface TOKENS_DEAD, never refresh again. */
  | 'dead refresh'
  /** Nobody answered: send again only a call that is safe to repeat (a read). */
  | 'transient'
  /** The caller gets the error as it is. */
  | 'surface';

export interface CodeRow {
  readonly action: CodeAction;
  /** For `retry`: back off with jitter (counting our bucket full), or hold the method until its operating reset. */
  readonly wait?: 'back off' | 'operating reset';
  /** Bitrix24 certainly did not run the method: sending it again duplicates nothing. */
  readonly notExecuted?: true;
  /** The app's error at the HTTP edge (`toAppError`). */
  readonly appError: 'unauthorized' | 'rate_limited' | 'payment_required' | 'upstream';
  /** No verdict (a limit held the call back, or nobody answered): says nothing about a token or an install. */
  readonly unanswered?: true;
  /** As a refresh refusal: proof that the app is no longer installed on the portal. */
  readonly appGone?: true;
}

export const errorCodes: Readonly<Record<string, CodeRow>> = Object.freeze({
  // Limits (limits.md, _includes/system-errors.md).
  QUERY_LIMIT_EXCEEDED: { action: 'retry', wait: 'back off', notExecuted: true, appError: 'rate_limited', unanswered: true },
  OPERATION_TIME_LIMIT: { action: 'retry', wait: 'operating reset', notExecuted: true, appError: 'rate_limited', unanswered: true },
  OVERLOAD_LIMIT: { action: 'surface', notExecuted: true, appError: 'rate_limited', unanswered: true },
  // The access token of a REST call (_includes/system-errors.md; the rest: bitrix24-platform.md §3).
  expired_token: { action: 'renew token', notExecuted: true, appError: 'unauthorized' },
  invalid_token: { action: 'renew token', notExecuted: true, appError: 'unauthorized' },
  NO_AUTH_FOUND: { action: 'surface', notExecuted: true, appError: 'unauthorized' },
  ERROR_OAUTH: { action: 'surface', appError: 'unauthorized' },
  authorization_error: { action: 'surface', appError: 'unauthorized' },
  // The method (api-reference/rest-v3.md).
  ERROR_METHOD_NOT_FOUND: { action: 'surface', notExecuted: true, appError: 'upstream' },
  // The OAuth server refusing a refresh (settings/oauth/error-codes.md; wrong_client, NOT_INSTALLED: bitrix24-platform.md §3).
  invalid_grant: { action: 'dead refresh', appError: 'unauthorized' },
  NOT_INSTALLED: { action: 'dead refresh', appError: 'unauthorized' },
  invalid_client: { action: 'dead refresh', appError: 'upstream', appGone: true },
  wrong_client: { action: 'dead refresh', appError: 'upstream' },
  // Not dead: the OAuth server issues no tokens and the portal answers no method until the portal pays
  // for the app (settings/oauth/error-codes.md, settings/oauth/index.md), then the same tokens work again.
  PAYMENT_REQUIRED: { action: 'surface', appError: 'payment_required' },
  // Ours. ENDPOINT_REFUSED and BATCH_HALTED behave as any unlisted code.
  [LocalCode.network]: { action: 'transient', appError: 'upstream', unanswered: true },
  [LocalCode.timeout]: { action: 'transient', appError: 'upstream', unanswered: true },
  [LocalCode.badResponse]: { action: 'surface', appError: 'upstream', unanswered: true },
  [LocalCode.noTokens]: { action: 'surface', appError: 'unauthorized' },
  [LocalCode.tokensDead]: { action: 'surface', appError: 'unauthorized' },
} satisfies Record<string, CodeRow>);

const UNLISTED: CodeRow = Object.freeze({ action: 'surface', appError: 'upstream' });

/** The row of `code`, matched exactly (case included); an unlisted code is surfaced as `upstream`. */
export const codeRow = (code: string): CodeRow => (Object.hasOwn(errorCodes, code) ? errorCodes[code]! : UNLISTED);

/** Worth sending again when the call is safe to repeat: a transient code, or any 5xx answer. */
export const isTransient = (code: string, status: number): boolean => codeRow(code).action === 'transient' || status >= 500;
