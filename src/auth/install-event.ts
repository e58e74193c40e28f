/**
 * ONAPPINSTALL (server to server, architecture §4.3-4.4). Its tokens are the portal's first secrets,
 * so nothing is stored until an allow-listed OAuth server vouches for its access_token exactly as for
 * a launch. Only then are the portal, the app tokens and the application_token's hash written — which
 * also means a forged re-install of a known portal changes nothing.
 */
import type { Bitrix } from '../bitrix/index.ts';
import { AppError } from '../domain/errors.ts';
import type { Portal } from '../domain/types.ts';
import type { FormObject } from '../http/php-form.ts';
import { formString } from '../http/php-form.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { VerifyLaunch } from './launch-verifier.ts';
import { sha256Hex } from './secret-hash.ts';

export interface InstallEventDeps {
  store: Store;
  bitrix: Bitrix;
  verifyLaunch: VerifyLaunch;
  logger: Logger;
  /** Where Bitrix24 should send ONAPPUNINSTALL (PUBLIC_URL/events). */
  eventsUrl: string;
}

export function createInstallEventHandler(deps: InstallEventDeps) {
  /** Asks the portal to send ONAPPUNINSTALL to us; failures are logged, never fatal to the install. */
  async function bindUninstallHandler(portal: Portal): Promise<void> {
    try {
      await deps.bitrix.client(portal, { kind: 'app' }).call('event.bind', { event: 'ONAPPUNINSTALL', handler: deps.eventsUrl });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'ERROR_HANDLER_ALREADY_EXIST') deps.logger.warn('could not bind ONAPPUNINSTALL', { member_id: portal.memberId, code });
    }
  }

  return async function handleInstallEvent(form: FormObject): Promise<Portal> {
    const auth = (name: string) => formString(form, 'auth', name);
    const applicationToken = auth('application_token');
    const refreshToken = auth('refresh_token');
    if (!applicationToken || !refreshToken) throw new AppError('unauthorized', 'Install event rejected.');
    let verified;
    try {
      verified = await deps.verifyLaunch({
        authId: auth('access_token'),
        domain: auth('domain'),
        memberId: auth('member_id'),
        serverEndpoint: auth('server_endpoint'),
      });
    } catch {
      deps.logger.warn('install event rejected', { member_id: auth('member_id').slice(0, 64) });
      throw new AppError('unauthorized', 'Install event rejected.');
    }
    const { store } = deps;
    const portal = await store.portals.upsert(verified.portal, 'installed');
    await store.users.upsert(portal.id, verified.user.id, {
      name: verified.user.name,
      isAdmin: verified.user.isAdmin,
      lang: formString(form, 'data', 'LANGUAGE_ID') || 'en',
      photoUrl: verified.user.photoUrl,
      timeZone: verified.user.timeZone,
    });
    const expiresIn = Number(auth('expires_in')) || 3600;
    await store.tokens.save(portal.id, { kind: 'app' }, verified.user.id, {
      accessToken: auth('access_token'),
      refreshToken,
      expiresAt: Math.min(verified.expiresAt, Math.floor(Date.now() / 1000) + expiresIn),
      scope: verified.portal.scope,
    });
    await store.portals.setApplicationTokenHash(portal.id, sha256Hex(applicationToken));
    deps.logger.info('app installed', { member_id: portal.memberId, domain: portal.domain });
    // After the reply: Bitrix24 wants a fast 2xx, and the binding needs a round trip.
    setTimeout(() => void bindUninstallHandler(portal), 0);
    return portal;
  };
}
