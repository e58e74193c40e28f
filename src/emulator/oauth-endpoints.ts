/**
 * The OAuth server (oauth.bitrix.info): `/oauth/token/` for authorization_code and refresh_token grants
 * (GET query or form POST), and `/rest/app.info`, the one trustworthy answer to "whose token is this".
 * Error shapes and statuses follow bitrix24-platform.md §3: invalid_grant 400, invalid_client 400,
 * wrong_client with HTTP 200, invalid_request 400, NOT_INSTALLED 401, expired_token 401.
 *
 * A grant for a portal the app is no longer installed on answers `invalid_client` ("the application
 * may not be installed in Bitrix24", settings/oauth/error-codes.md); a token of an earlier installation
 * of a reinstalled app is merely dead: `invalid_grant`, as is a refresh token past its lifetime ("If
 * refresh_token has expired, go through the authorization again", same page). A valid grant for an app
 * whose paid or trial period has lapsed on that portal answers `PAYMENT_REQUIRED` "Payment required"
 * ("Until then, the authorization server will not issue tokens", same page) and leaves the refresh token
 * usable for after the renewal. Its HTTP status is not documented: 401, as the portal passes it on.
 */
import { billingOf, paymentLapsed } from './billing.ts';
import { realTime } from './clock.ts';
import { jsonResponse } from './html.ts';
import { readRestParams, asString } from './rest-request.ts';
import { buildTime, restJson } from './rest-response.ts';
import type { TokenGrant, TokenRecord } from './token-registry.ts';
import { serverEndpoint, type World } from './world.ts';

function oauthError(error: string, description: string, status = 400): Response {
  return jsonResponse({ error, error_description: description }, status);
}

function tokenResponse(world: World, token: TokenRecord): Response {
  const portal = world.portals.get(token.member_id);
  const app = world.apps.get(token.client_id);
  const status = portal && app ? billingOf(world, portal, app).status : (app?.status ?? 'F');
  return jsonResponse({
    access_token: token.access_token,
    expires: Math.floor(token.expiresAt / 1000),
    expires_in: world.options.accessTokenTtl,
    scope: token.scope.join(','),
    domain: new URL(world.oauthOrigin).host,
    server_endpoint: serverEndpoint(world),
    status,
    client_endpoint: portal?.client_endpoint ?? '',
    member_id: token.member_id,
    user_id: token.user_id,
    refresh_token: token.refresh_token,
  });
}

type GrantOrigin = 'current' | 'not_installed' | 'earlier_installation';

/** Whether the installation a grant was issued for is the app's live one on its portal. */
function originOf(world: World, grant: TokenGrant): GrantOrigin {
  const install = world.portals.get(grant.member_id)?.installs.get(grant.client_id);
  if (!install) return 'not_installed';
  return install.id === grant.installation_id ? 'current' : 'earlier_installation';
}

const notInstalled = () => oauthError('invalid_client', 'Application not installed');
const paymentRequired = () => oauthError('PAYMENT_REQUIRED', 'Payment required', 401);

/** The grant's app has lapsed on the grant's portal (billing.ts). */
function lapsed(world: World, grant: TokenGrant): boolean {
  const portal = world.portals.get(grant.member_id);
  const app = world.apps.get(grant.client_id);
  return !!portal && !!app && paymentLapsed(world, portal, app);
}

export async function handleTokenRequest(world: World, req: Request, url: URL): Promise<Response> {
  const { params } = await readRestParams(req, url);
  const grantType = asString(params.grant_type);
  const clientId = asString(params.client_id) ?? '';
  const app = world.apps.get(clientId);
  if (!app) return oauthError('wrong_client', 'Wrong client', 200);
  if (asString(params.client_secret) !== app.client_secret) return oauthError('invalid_client', 'Invalid client credentials');

  if (grantType === 'authorization_code') {
    const code = asString(params.code);
    if (!code) return oauthError('invalid_request', 'No "code" parameter found');
    const grant = world.tokens.takeCode(code, clientId);
    if (grant && originOf(world, grant) === 'not_installed') return notInstalled();
    if (!grant || originOf(world, grant) !== 'current') return oauthError('invalid_grant', 'Invalid authorization code');
    if (lapsed(world, grant)) return paymentRequired();
    world.stats.bump('token_grants', grant.member_id);
    return tokenResponse(world, world.tokens.issue(grant));
  }
  if (grantType === 'refresh_token') {
    const refresh = asString(params.refresh_token);
    if (!refresh) return oauthError('invalid_request', 'No "refresh_token" parameter found');
    const known = world.tokens.peekRefresh(refresh);
    const origin = known && known.client_id === clientId ? originOf(world, known) : null;
    if (known && origin === 'current' && world.tokens.refreshLive(known) && lapsed(world, known)) {
      world.stats.bump('refresh_failures', known.member_id);
      return paymentRequired();
    }
    const token = origin === 'current' ? world.tokens.rotate(refresh, clientId) : undefined;
    if (!token) {
      world.stats.bump('refresh_failures', known?.member_id);
      return origin === 'not_installed' ? notInstalled() : oauthError('invalid_grant', 'Invalid refresh token');
    }
    world.stats.bump('refreshes', token.member_id);
    return tokenResponse(world, token);
  }
  return oauthError('invalid_request', 'Unsupported grant type');
}

/** The OAuth server's REST: only app.info, answering for any portal's token. */
export async function handleServerRest(world: World, req: Request, url: URL): Promise<Response> {
  const start = world.clock.now();
  const startReal = realTime();
  const method = url.pathname.replace(/\/{2,}/g, '/').replace(/^\/rest\//, '').replace(/\/+$/, '').replace(/\.json$/, '');
  if (method.toLowerCase() !== 'app.info') return restJson({ error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' }, 404);
  const { auth } = await readRestParams(req, url);
  if (!auth) return restJson({ error: 'invalid_request', error_description: 'No auth parameter found' }, 400);
  const record = world.tokens.peek(auth);
  if (!record) return restJson({ error: 'invalid_client', error_description: 'Invalid token' }, 400);
  world.stats.bump('app_info_calls', record.member_id);
  const portal = world.portals.get(record.member_id);
  const install = portal?.installs.get(record.client_id);
  if (!portal || !install) return restJson({ error: 'NOT_INSTALLED', error_description: 'Application not installed' }, 401);
  const check = world.tokens.checkAccess(auth);
  if (!check.ok && check.reason === 'expired') {
    return restJson({ error: 'expired_token', error_description: 'The access token provided has expired.' }, 401);
  }
  if (!check.ok) return restJson({ error: 'invalid_client', error_description: 'Invalid token' }, 400);
  const token = check.token;
  const billing = billingOf(world, portal, install.app);
  return restJson({
    result: {
      client_id: token.client_id,
      scope: token.scope.join(','),
      expires: Math.floor(token.expiresAt / 1000),
      user_id: token.user_id,
      install: {
        installed: install.installed,
        version: install.version,
        status: billing.status,
        scope: install.app.scope.join(','),
        domain: portal.domain,
        uri: portal.origin,
        client_endpoint: portal.client_endpoint,
        member_id: portal.member_id,
        member_type: 'PORTAL',
      },
    },
    // operating_reset_at stays in real time, as the operating limit does (clock.ts).
    time: buildTime(start, (realTime() - startReal) / 1000, 0, { operating: 0, operating_reset_at: Math.floor(realTime() / 1000) + 600 }),
  });
}
