/**
 * The one place where errors become responses (house style §2). Known errors (AppError, Elysia's
 * validation/parse/not-found) keep their safe message; anything else is logged with its request id
 * and shown as an opaque 500. The shape follows the caller: JSON for the API, a toast trigger for
 * htmx, a styled page for navigations.
 */
import { isBitrixError, toAppError } from '../bitrix/index.ts';
import { AppError, ItemConflict, statusOf, SubscriptionExpired, type ErrorCode } from '../domain/errors.ts';
import type { Logger } from '../log.ts';
import { ErrorPage } from '../../views/pages.tsx';
import { fieldMessages } from '../../views/view-model.ts';
import { pickLang, translator, type Lang, type MessageKey } from '../../views/i18n.ts';
import type { PageAssets } from '../../views/layout.tsx';
import type { RequestMeta } from './edge.ts';
import { itemJson } from './items-api.ts';
import { asciiJson } from './pages.ts';

/** The language of a page nobody is signed in to yet: the launch's LANG, else the browser's first language. */
export function pageLang(request: Request): Lang {
  const fromQuery = new URL(request.url).searchParams.get('LANG');
  return pickLang(fromQuery ?? (request.headers.get('accept-language') ?? '').slice(0, 2).toLowerCase());
}

interface Described {
  code: ErrorCode;
  message: string;
  fields?: Record<string, string>;
  current?: unknown;
  /** A lapsed subscription: administrators get the way to renew. */
  renewUrl?: string;
}

/** Error pages speak the user's language: title and message by code (AppError messages are English). */
const pageTexts: Partial<Record<ErrorCode, [MessageKey, MessageKey]>> = {
  unauthorized: ['pageErrorSignedOut', 'launchUnverified'],
  not_installed: ['pageErrorNotInstalled', 'appNotInstalled'],
  unavailable: ['pageErrorUnavailable', 'bitrixUnavailable'],
  rate_limited: ['pageErrorBusy', 'tooManyAttempts'],
  payment_required: ['pageSubscriptionExpired', 'subscriptionExpired'],
  not_found: ['pageErrorNotFound', 'nothingHere'],
  internal: ['pageErrorBroken', 'errorGeneric'],
};


/** Elysia's validation error lists each failing value; keep its path and message, nothing more. */
function validationFields(error: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  const all = (error as { all?: { path?: string; message?: string; summary?: string }[] }).all ?? [];
  for (const e of all) {
    const key = (e.path ?? '').replace(/^\//, '').replace(/\//g, '.') || 'body';
    if (!(key in fields)) fields[key] = e.summary ?? e.message ?? 'is invalid';
  }
  return fields;
}

function describe(code: string | number, raw: unknown): Described | null {
  // A Bitrix24 failure that reached the edge becomes the app's own error (no tokens, no internals).
  const error = isBitrixError(raw) ? toAppError(raw) : raw;
  // A save that lost a race shows the stored item, in the API's shape.
  if (error instanceof ItemConflict) return { code: error.code, message: error.message, current: itemJson(error.item) };
  if (error instanceof SubscriptionExpired) return { code: error.code, message: error.message, ...(error.isAdmin && error.renewUrl ? { renewUrl: error.renewUrl } : {}) };
  if (error instanceof AppError) {
    return { code: error.code, message: error.message, ...error.details };
  }
  switch (code) {
    case 'VALIDATION': {
      const where = (error as { type?: string }).type;
      return where === 'body'
        ? { code: 'unprocessable', message: 'Some fields are invalid.', fields: validationFields(error) }
        : { code: 'invalid', message: 'The request parameters are invalid.', fields: validationFields(error) };
    }
    case 'PARSE':
      return { code: 'invalid', message: 'The request body could not be read.' };
    case 'NOT_FOUND':
      return { code: 'not_found', message: 'Nothing here.' };
    case 'INVALID_COOKIE_SIGNATURE':
      return { code: 'unauthorized', message: 'The session is not valid.' };
    default:
      return null;
  }
}

const wantsJson = (request: Request, path: string) =>
  path.startsWith('/api/') ||
  ((request.headers.get('accept') ?? '').includes('application/json') &&
    !(request.headers.get('accept') ?? '').includes('text/html'));

export interface ErrorHandlerDeps {
  logger: Logger;
  meta: RequestMeta;
  pageAssets: PageAssets;
  /** The methods the route table answers on a path (for 405 and its Allow header). */
  allowedMethods(path: string): string[];
}

/** From the route table: which methods each path pattern (`/api/items/:id`) answers. */
export function methodLookup(routes: () => readonly { method: string; path: string }[]): (path: string) => string[] {
  let table: { pattern: RegExp; method: string }[] | null = null;
  return (path) => {
    table ??= routes().map((r) => ({
      method: r.method,
      pattern: new RegExp(`^${r.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+')}/?$`),
    }));
    const methods = new Set(table.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}
const apiText = translator('en');

export function createErrorHandler({ logger, meta, pageAssets, allowedMethods }: ErrorHandlerDeps) {
  return ({ code, error, request, path }: { code: string | number; error: unknown; request: Request; path: string }) => {
    const requestId = meta.id(request);
    // A known path asked with a method it does not answer: 405 with the methods it does.
    const allow = code === 'NOT_FOUND' ? allowedMethods(path) : [];
    if (allow.length) {
      return Response.json(
        { error: { code: 'method_not_allowed', message: `Use ${allow.join(', ')}.` } },
        { status: 405, headers: { allow: allow.join(', '), 'x-request-id': requestId, 'cache-control': 'no-store' } },
      );
    }
    const known = describe(code, error);
    if (!known) logger.error('unhandled error', { request_id: requestId, path, error });
    const d: Described = known ?? { code: 'internal', message: 'Something went wrong. Please try again.' };
    const status = statusOf[d.code];
    const headers: Record<string, string> = { 'x-request-id': requestId, 'cache-control': 'no-store' };
    // Bitrix24 did not answer: the page (or the island) may simply try again shortly.
    if (d.code === 'unavailable') headers['retry-after'] = '5';

    if (wantsJson(request, path)) {
      const body: Record<string, unknown> = { code: d.code, message: d.message };
      // The API speaks English; field problems arrive as codes (domain FieldIssue) or Elysia's text.
      if (d.fields) body.fields = fieldMessages(apiText, 'en', d.fields);
      if (d.current !== undefined) body.current = d.current;
      if (!known) body.request_id = requestId;
      return Response.json({ error: body }, { status, headers });
    }
    if (request.headers.get('hx-request') === 'true') {
      // htmx does not swap error responses; the page shows the message as a toast (in the user's
      // language, by code). A 401 gets none: the page renews its session and repeats the request —
      // unless its code says renewing is pointless (the app was removed from the portal).
      if (status !== 401 || d.code === 'not_installed') headers['hx-trigger'] = asciiJson({ toast: { kind: 'error', code: d.code, message: d.message } });
      headers['x-error-code'] = d.code;
      return new Response('', { status, headers });
    }
    const lang = pageLang(request);
    const t = translator(lang);
    const texts = pageTexts[d.code];
    const page = ErrorPage({
      lang,
      status,
      title: t(texts?.[0] ?? 'pageErrorTitle'),
      message: d.renewUrl ? t('subscriptionExpiredAdmin') : texts ? t(texts[1]) : lang === 'en' ? d.message : t('errorGeneric'),
      ...(d.renewUrl ? { action: { href: d.renewUrl, label: t('subscriptionRenew') } } : {}),
      requestId: known ? undefined : requestId,
      requestIdLabel: t('requestId'),
      assets: pageAssets,
    });
    return new Response(page as string, { status, headers: { ...headers, 'content-type': 'text/html; charset=utf-8' } });
  };
}
