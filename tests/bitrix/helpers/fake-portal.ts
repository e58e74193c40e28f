/**
 * A scripted stand-in for `fetch`, for unit tests that need exact control over answers (5xx on a
 * write, a hanging request) that the emulator has no switch for. Integration behaviour, a renamed
 * portal's 302 included (renamed-portal.test.ts), is tested against the real emulator over HTTP instead.
 */
import type { Portal } from '../../../src/domain/types.ts';

export interface SeenRequest {
  url: string;
  method: string;
  body: Record<string, unknown>;
  raw: string;
}

export type Script = (req: SeenRequest, n: number) => Response | Promise<Response>;

export function scriptedFetch(script: Script) {
  const seen: SeenRequest[] = [];
  const fetchFn = async (input: string, init: RequestInit): Promise<Response> => {
    const raw = typeof init.body === 'string' ? init.body : '';
    let body: Record<string, unknown> = {};
    try {
      body = raw.startsWith('{') ? JSON.parse(raw) : Object.fromEntries(new URLSearchParams(raw));
    } catch {}
    const req = { url: input, method: init.method ?? 'GET', body, raw };
    seen.push(req);
    if (init.signal?.aborted) throw init.signal.reason;
    const answer = script(req, seen.length);
    if (!init.signal) return answer;
    const signal = init.signal;
    return Promise.race([
      Promise.resolve(answer),
      new Promise<Response>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
    ]);
  };
  return { fetch: fetchFn, seen };
}

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

export const ok = (result: unknown, extra: Record<string, unknown> = {}) => json({ result, time: { start: 0, finish: 0, duration: 0, processing: 0 }, ...extra });

export const fail = (error: string, status: number, description = '') => json({ error, error_description: description }, status);

export function fakePortal(overrides: Partial<Portal> = {}): Portal {
  return {
    id: 1,
    memberId: 'm1',
    domain: 'portal.example',
    clientEndpoint: 'https://portal.example/rest/',
    serverEndpoint: 'https://oauth.example/rest/',
    status: 'installed',
    appStatus: 'L',
    scope: 'user',
    hasApplicationToken: true,
    installedAt: 0,
    uninstalledAt: null,
    lifecycleTs: null,
    uninstallClaim: null,
    purgeAt: null,
    bindingsCheckedAt: null,
    ...overrides,
  };
}
