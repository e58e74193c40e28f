/**
 * The portal page's own ajax (CORE app.layout `action=access_refresh`, `set_installed`, `set_option`):
 * what the parent-side script calls when the frame asks for a new token, finishes the install, stores
 * an option or opens a slider. Same-origin JSON; the APP_SID identifies the frame render.
 */
import { finishInstall } from './installation.ts';
import { jsonResponse } from './html.ts';
import { createLaunch } from './launch.ts';
import { encodePhpPairs, parsePhpPairs } from './php-form.ts';
import { findUser, grantFor, type Portal, type World } from './world.ts';

interface FrameRequest {
  sid?: string;
  kind?: 'app' | 'user';
  name?: string;
  value?: unknown;
  options?: Record<string, unknown>;
}

export async function handleFrameAjax(world: World, portal: Portal, action: string, req: Request): Promise<Response> {
  if (req.method !== 'POST') return jsonResponse({ error: 'method_not_allowed' }, 405);
  const body = (await req.json().catch(() => ({}))) as FrameRequest;
  const frame = portal.frames.get(String(body.sid ?? ''));
  const install = frame && portal.installs.get(frame.client_id);
  const user = frame && findUser(portal, frame.user_id);
  if (!frame || !install || !user) return jsonResponse({ error: 'frame_not_found' }, 404);

  switch (action) {
    case 'refresh': {
      const token = world.tokens.issue(grantFor(portal, install, user.ID));
      return jsonResponse({ AUTH_ID: token.access_token, AUTH_EXPIRES: String(world.options.accessTokenTtl), REFRESH_ID: token.refresh_token });
    }
    case 'first-run':
      install.firstRunDone.add(user.ID);
      return jsonResponse({ result: true });
    case 'install-finish': {
      // An installer app is installed by this call alone: no ONAPPINSTALL follows (installation-master.md).
      if (!user.ADMIN) return jsonResponse({ error: 'access_denied' }, 403);
      finishInstall(install);
      frame.install = false;
      return jsonResponse({ result: true });
    }
    case 'option': {
      if (!body.name) return jsonResponse({ error: 'name_required' }, 400);
      if (body.kind === 'app') {
        if (!user.ADMIN) return jsonResponse({ error: 'access_denied' }, 403);
        install.appOptions[body.name] = body.value;
        return jsonResponse(install.appOptions);
      }
      const current = install.userOptions.get(user.ID) ?? {};
      install.userOptions.set(user.ID, { ...current, [body.name]: body.value });
      return jsonResponse(install.userOptions.get(user.ID));
    }
    case 'open': {
      // openApplication: bx24_* keys configure the slider; the rest become PLACEMENT_OPTIONS, after a trip
      // through PHP's form handling on the real portal (so numbers arrive as strings).
      const options = parsePhpPairs(
        encodePhpPairs(Object.fromEntries(Object.entries(body.options ?? {}).filter(([k]) => !k.startsWith('bx24_')))),
      );
      const launch = createLaunch(world, portal, install, user, { placement: 'DEFAULT', placementOptions: options });
      return jsonResponse({ launch });
    }
    default:
      return jsonResponse({ error: 'not_found' }, 404);
  }
}
