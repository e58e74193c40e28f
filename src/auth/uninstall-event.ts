/**
 * ONAPPUNINSTALL. The event carries no tokens, only the application_token — which current portals also
 * put in every launch form, so any user's browser has seen it. A matching token is therefore necessary
 * but not sufficient: before destroying anything we ask the portal itself, with the app's stored
 * tokens, whether the app is still installed. Only a portal that no longer accepts our tokens (or
 * says INSTALLED=false) confirms the uninstall.
 */
import { isBitrixError, LocalCode, type Bitrix } from '../bitrix/index.ts';
import { AppError } from '../domain/errors.ts';
import type { Portal } from '../domain/types.ts';
import { formString, type FormObject } from '../http/php-form.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { matchesHash } from './secret-hash.ts';

export interface UninstallEventDeps {
  store: Store;
  bitrix: Bitrix;
  logger: Logger;
}

type Probe = 'still_installed' | 'gone' | 'unknown';

/** No answer, or no token to ask with: the uninstall can't be confirmed (and is not carried out). */
const UNANSWERED = new Set<string>([LocalCode.network, LocalCode.timeout, LocalCode.badResponse, LocalCode.noTokens]);

/** Verifies application_token for an event; 401 for an unknown portal or a mismatch, in constant time. */
export async function authenticateEvent(store: Store, form: FormObject): Promise<Portal> {
  const memberId = formString(form, 'auth', 'member_id');
  const presented = formString(form, 'auth', 'application_token');
  const storedHash = memberId ? await store.portals.applicationTokenHash(memberId) : null;
  const portal = storedHash ? await store.portals.findByMemberId(memberId) : null;
  if (!matchesHash(presented, storedHash) || !portal) throw new AppError('unauthorized', 'Event rejected.');
  return portal;
}

export function createUninstallEventHandler(deps: UninstallEventDeps) {
  async function probe(portal: Portal): Promise<Probe> {
    try {
      const answer = await deps.bitrix.client(portal, { kind: 'app' }).call<{ INSTALLED?: boolean }>('app.info');
      return answer.result?.INSTALLED === false ? 'gone' : 'still_installed';
    } catch (e) {
      if (!isBitrixError(e)) throw e;
      if (UNANSWERED.has(e.code) || e.status >= 500) return 'unknown';
      return 'gone'; // the portal refuses our tokens: the app was removed
    }
  }

  return async function handleUninstallEvent(form: FormObject): Promise<'removed' | 'deactivated'> {
    const portal = await authenticateEvent(deps.store, form);
    const verdict = await probe(portal);
    if (verdict === 'still_installed') {
      deps.logger.warn('forged uninstall refused: the portal still accepts the app', { member_id: portal.memberId });
      throw new AppError('forbidden', 'Event rejected.');
    }
    if (verdict === 'unknown') {
      deps.logger.warn('uninstall not confirmed: the portal did not answer', { member_id: portal.memberId });
      throw new AppError('unavailable', 'Could not confirm the uninstall.');
    }
    const { store } = deps;
    if (formString(form, 'data', 'CLEAN') === '1') {
      await store.portals.deleteWithData(portal.id);
      deps.logger.info('app uninstalled, data deleted', { member_id: portal.memberId });
      return 'removed';
    }
    await store.tokens.deleteForPortal(portal.id);
    await store.sessions.deleteForPortal(portal.id);
    await store.portals.markUninstalled(portal.id);
    deps.logger.info('app uninstalled, data kept', { member_id: portal.memberId });
    return 'deactivated';
  };
}
