/**
 * The emulator's main origin, standing in for oauth.bitrix.info (token endpoint, app.info) and
 * api.bitrix24.com (the BX24 library at /api/v1/), plus the control API under /_emulator/.
 */
import { renderBx24Script } from './bx24-library.ts';
import { handleControl } from './control-api.ts';
import { escapeHtml, htmlResponse, jsonResponse } from './html.ts';
import { handleServerRest, handleTokenRequest } from './oauth-endpoints.ts';
import { CORS_HEADERS, preflight } from './rest-response.ts';
import { log, type World } from './world.ts';

const LIBRARY_PATHS = new Set(['/api/v1', '/api/v1/', '/api/v1/bx24.js', '/bx24.js']);

function indexPage(world: World): Response {
  const rows = [...world.portals.values()]
    .map((p) => `<li><a href="${escapeHtml(p.origin)}/">${escapeHtml(p.domain)}</a> — member_id ${escapeHtml(p.member_id)}</li>`)
    .join('');
  return htmlResponse(`<!doctype html><meta charset="utf-8"><title>Bitrix24 emulator</title>
<h1>Bitrix24 emulator</h1><p>OAuth server and control API. Portals:</p><ul>${rows || '<li>none yet (POST /_emulator/portals)</li>'}</ul>`);
}

export function createOAuthFetch(world: World, library: string = renderBx24Script()) {
  return async function handleOAuthRequest(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname.replace(/\/{2,}/g, '/');
    try {
      if (path === '/oauth/token/' || path === '/oauth/token') return await handleTokenRequest(world, req, url);
      if (path.startsWith('/rest/')) {
        return req.method === 'OPTIONS' ? preflight() : await handleServerRest(world, req, url);
      }
      if (path.startsWith('/_emulator/')) return await handleControl(world, req, url);
      if (LIBRARY_PATHS.has(path)) {
        return new Response(library, {
          headers: { 'content-type': 'application/javascript; charset=utf-8', 'cache-control': 'no-cache', ...CORS_HEADERS },
        });
      }
      if (path === '/') return indexPage(world);
      return jsonResponse({ error: 'not_found' }, 404);
    } catch (err) {
      log(world, 'oauth server request failed', { path, error: err instanceof Error ? err.message : String(err) });
      return jsonResponse({ error: 'invalid_request', error_description: 'Bad request' }, 400);
    }
  };
}
