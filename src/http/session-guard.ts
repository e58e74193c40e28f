/**
 * Who is calling: an app session presented as `Authorization: Bearer <token>` (what htmx and API
 * clients send; works with third-party cookies blocked) or, as a convenience, the session cookie.
 * Cookie-authenticated unsafe requests must come from our own origin (CSRF); header-authenticated
 * ones cannot be forged cross-site and need no such check.
 */
import { Elysia } from 'elysia';
import type { Sessions } from '../auth/sessions.ts';
import { notInstalled } from '../auth/sign-in.ts';
import { AppError } from '../domain/errors.ts';
import type { Actor } from '../domain/types.ts';

export const SESSION_COOKIE = 'b24app_session';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function bearerToken(request: Request): string | null {
  const h = request.headers.get('authorization');
  const m = h ? /^Bearer\s+([A-Za-z0-9_-]{20,128})$/.exec(h) : null;
  return m ? m[1]! : null;
}

/** A cookie's value when it is a well-formed random token (20-128 URL-safe characters). */
export function cookieValue(request: Request, name: string): string | null {
  const cookie = request.headers.get('cookie') ?? '';
  for (const part of cookie.split(';', 50)) {
    const [k, v] = part.trim().split('=');
    if (k === name && v && /^[A-Za-z0-9_-]{20,128}$/.test(v)) return v;
  }
  return null;
}

export const cookieToken = (request: Request): string | null => cookieValue(request, SESSION_COOKIE);

/** A cookie-borne unsafe request is ours only if the browser says it came from our origin. */
export function isSameOrigin(request: Request, appOrigin: string): boolean {
  const site = request.headers.get('sec-fetch-site');
  if (site) return site === 'same-origin';
  const origin = request.headers.get('origin');
  return origin === appOrigin;
}

export interface SessionGuardDeps {
  sessions: Sessions;
  appOrigin: string;
}

/** Resolves `actor` (or null) for every route that uses the plugin; `requireActor` turns null into 401. */
export const sessionGuard = (deps: SessionGuardDeps) =>
  new Elysia({ name: 'session-guard', seed: deps }).resolve({ as: 'scoped' }, async ({ request }) => {
    const header = bearerToken(request);
    const token = header ?? cookieToken(request);
    if (!token) return { actor: null as Actor | null };
    if (!header && !SAFE_METHODS.has(request.method) && !isSameOrigin(request, deps.appOrigin)) {
      throw new AppError('forbidden', 'Cross-site request refused.');
    }
    const s = await deps.sessions.verify(token);
    if (s?.closed) throw notInstalled();
    return { actor: s ? ({ portalId: s.portalId, userId: s.userId } as Actor | null) : null };
  });

export function requireActor(actor: Actor | null): Actor {
  if (!actor) throw new AppError('unauthorized', 'Your session has expired. Reopen the app from Bitrix24.');
  return actor;
}
