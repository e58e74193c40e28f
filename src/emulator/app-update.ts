/**
 * A new version of the app reaches one portal. Sources in `bitrix24/b24restdocs` and around it:
 * - ONAPPUPDATE (api-reference/common/events/on-app-update.md): `data[VERSION]`,
 *   `data[PREVIOUS_VERSION]`, `data[LANGUAGE_ID]`, and `auth` with access and refresh tokens (CORE
 *   rest_provider.php: OnAppUpdate `sendRefreshToken`), form-encoded like every event.
 * - Bindings: event-bind.md says "when an application is deleted or updated, its actions will be
 *   removed. Therefore, they must be set from scratch in the installer of each version";
 *   bitrix-tools/b24-rest-docs issue #251 asks what that covers, and PR #370 found in CORE that an
 *   update deletes the app's ONAPPINSTALL handlers whoever bound them (rest_util.php UpdateApp →
 *   EventTable::deleteAppInstaller). The sources disagree on the rest; the emulator takes the stricter
 *   reading: every event binding of the app on that portal, online and offline, is dropped. Placements,
 *   options and the offline queue's records stay.
 * - Order: CORE fires OnRestAppUpdate (which queues ONAPPUPDATE for the handlers bound at that moment)
 *   before it deletes anything. So ONAPPUPDATE reaches the handlers bound before the update, and the
 *   bindings are gone by the time it arrives: whatever the app binds while handling it stays.
 * - Not modelled: the draft article of PR #370 says an app with an installer page has INSTALLED reset
 *   and must call installFinish again; here INSTALLED stays. `application_token` stays the same (the
 *   event page speaks of "the updated application_token" without saying it changes).
 */
import { buildEventAuth, buildEventBody, hearsEvents, postEvent, type Delivery } from './event-sender.ts';
import { log, type Installation, type Portal, type World } from './world.ts';

export const UPDATE_EVENT = 'ONAPPUPDATE';

export interface UpdateOutcome {
  version: number;
  deliveries: Delivery[];
  /** How many event bindings the update removed. */
  droppedBindings: number;
}

/** Installs `version` (greater than the current one) and answers once every ONAPPUPDATE POST was answered. */
export async function updateApp(world: World, portal: Portal, install: Installation, version: number): Promise<UpdateOutcome> {
  const previous = install.version;
  install.version = version;
  const recipients = hearsEvents(world, portal, install) ? install.events.filter((b) => b.event === UPDATE_EVENT && !b.offline) : [];
  const droppedBindings = install.events.length;
  install.events = [];
  log(world, 'app updated', { member_id: portal.member_id, client_id: install.app.client_id, from: previous, to: version, dropped: droppedBindings });
  // The administrator who updates it, unless the handler was bound for a particular user.
  const admin = portal.users.find((u) => u.ADMIN && u.ACTIVE)?.ID ?? 1;
  const data = { VERSION: String(version), PREVIOUS_VERSION: String(previous), LANGUAGE_ID: portal.lang };
  const deliveries = await Promise.all(
    recipients.map((b) => {
      const auth = buildEventAuth(world, portal, install, b.auth_type || admin, 'with-refresh');
      return postEvent(world, portal, b.handler, buildEventBody(world, UPDATE_EVENT, b.id, data, auth));
    }),
  );
  return { version, deliveries, droppedBindings };
}
