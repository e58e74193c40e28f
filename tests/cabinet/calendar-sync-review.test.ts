/**
 * Calendar sync under the hands of a real user and a real portal: a double click (or an API client
 * that retries) on "Add to calendar" must not leave an event in the user's calendar that the item no
 * longer knows about (so never updated, never deleted); deleting an item while the app cannot write as
 * the user (tokens dead) must not leave its event in the calendar for good once the user is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { openCabinet, type Cabinet, type CabinetUser } from './cabinet-harness.ts';

/** Every event in the user's own calendar, as Bitrix24 lists them. */
async function eventsOf(cab: Cabinet, user: CabinetUser): Promise<{ ID: string; NAME: string }[]> {
  const auth = (await cab.stack.emu.launch(user.portal.member_id, user.userId)).form.AUTH_ID!;
  const res = await fetch(`${user.portal.client_endpoint}calendar.event.get.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'user', ownerId: user.userId, auth }),
  });
  return ((await res.json()) as { result: { ID: string; NAME: string }[] }).result;
}

describe('calendar sync: what a user can do to it', () => {
  let cab: Cabinet;
  beforeAll(async () => {
    cab = await openCabinet();
  });
  afterAll(() => cab.stop());

  it('"Add to calendar" sent twice at once makes one event, the one the item is linked to', async () => {
    const user = await cab.signIn(await cab.newPortal(), 2);
    const item = await user.create({ name: 'Double click', starts_at: '2026-12-10T09:00:00Z' });
    const [a, b] = await Promise.all([
      user.api('POST', `/api/items/${item.id}/calendar`),
      user.api('POST', `/api/items/${item.id}/calendar`),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await cab.stack.server.app.runCalendarSync();
    const linked = (await user.api('GET', `/api/items/${item.id}`)).json;
    const events = (await eventsOf(cab, user)).filter((e) => e.NAME === 'Double click');
    expect(events.map((e) => e.ID)).toEqual([linked.calendar_event_id]);
  });

  it('a deletion that failed for want of tokens is done once the user opens the app again', async () => {
    const user = await cab.signIn(await cab.newPortal(), 3);
    const created = await user.create({ name: 'Delete me later', starts_at: '2026-12-12T09:00:00Z' });
    const item = (await user.api('POST', `/api/items/${created.id}/calendar`)).json;
    // Someone else spent the refresh token the app stored, and the access token expired.
    await cab.killTokens(user);
    expect((await user.api('DELETE', `/api/items/${item.id}`)).status).toBe(204);
    await cab.stack.server.app.runCalendarSync();
    // The item has no row any more, so no retry button: the app itself must try again.
    expect((await eventsOf(cab, user)).map((e) => e.ID)).toEqual([item.calendar_event_id]);

    await cab.signIn(user.portal, 3);
    await cab.stack.server.app.runCalendarSync();
    expect(await eventsOf(cab, user)).toEqual([]);
    expect(await cab.stack.sql('SELECT * FROM calendar_jobs WHERE item_id = ?', [item.id])).toEqual([]);
  });
});
