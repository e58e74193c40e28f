/**
 * The calendar link against the emulator: `POST /api/items/:id/calendar` adds the event to the user's
 * own Bitrix24 calendar (checked through the emulator's own REST with a user token) and stores its
 * id on the item. When Bitrix24 refuses — dead refresh token, operating limit — the answer is a
 * clear error status and the item is exactly as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { openCabinet, type Cabinet, type CabinetUser, type ItemJson } from './cabinet-harness.ts';

/** Calls a portal's REST as the emulator serves it (what a browser's BX24.callMethod would reach). */
async function portalRest(user: CabinetUser, method: string, params: Record<string, unknown>, auth: string) {
  const res = await fetch(`${user.portal.client_endpoint}${method}.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...params, auth }),
  });
  return (await res.json()) as { result?: any; error?: string };
}

/** A fresh user token for the same user, from a new launch of the emulator (not sent to the app). */
async function userToken(cab: Cabinet, user: CabinetUser): Promise<string> {
  return (await cab.stack.emu.launch(user.portal.member_id, user.userId)).form.AUTH_ID!;
}

async function eventsOf(cab: Cabinet, user: CabinetUser) {
  const r = await portalRest(user, 'calendar.event.get', { type: 'user', ownerId: user.userId }, await userToken(cab, user));
  return r.result as { ID: string; NAME: string; DATE_FROM: string; DATE_TO: string; DESCRIPTION: string; OWNER_ID: string }[];
}

describe('POST /api/items/:id/calendar', () => {
  let cab: Cabinet;
  let user: CabinetUser;
  beforeAll(async () => {
    cab = await openCabinet();
    user = await cab.signIn(await cab.newPortal(), 2);
  });
  afterAll(() => cab.stop());

  it('adds the event to the user calendar and stores its id on the item', async () => {
    const item = await user.create({
      name: 'Team <sync>',
      data: { notes: 'agenda' },
      starts_at: '2026-12-01T10:00:00Z',
      ends_at: '2026-12-01T11:30:00Z',
    });
    const r = await user.api('POST', `/api/items/${item.id}/calendar`);
    expect(r.status).toBe(200);
    const linked = r.json as ItemJson;
    expect(linked.calendar_event_id).toMatch(/^\d+$/);
    expect(linked.version).toBe(2);
    expect(linked.name).toBe('Team <sync>');
    expect((await cab.row(item.id))!.calendar_event_id).toBe(linked.calendar_event_id);

    const event = (await eventsOf(cab, user)).find((e) => e.ID === linked.calendar_event_id)!;
    expect(event).toBeDefined();
    expect(event).toMatchObject({ NAME: 'Team <sync>', OWNER_ID: '2', DESCRIPTION: 'agenda' });
    expect(Date.parse(event.DATE_FROM)).toBe(Date.parse('2026-12-01T10:00:00Z'));
    expect(Date.parse(event.DATE_TO)).toBe(Date.parse('2026-12-01T11:30:00Z'));
  });

  it('uses an hour when there is no end, and linking twice adds no second event', async () => {
    const item = await user.create({ name: 'One hour', starts_at: '2026-12-02T08:00:00Z' });
    const first = await user.api('POST', `/api/items/${item.id}/calendar`);
    const countAfterFirst = (await eventsOf(cab, user)).length;
    const second = await user.api('POST', `/api/items/${item.id}/calendar`);
    expect(second.status).toBe(200);
    expect(second.json.calendar_event_id).toBe(first.json.calendar_event_id);
    expect((await eventsOf(cab, user)).length).toBe(countAfterFirst);
    const event = (await eventsOf(cab, user)).find((e) => e.ID === first.json.calendar_event_id)!;
    expect(Date.parse(event.DATE_TO) - Date.parse(event.DATE_FROM)).toBe(3600_000);
  });

  it('answers 422 for an item without starts_at and calls nothing', async () => {
    const item = await user.create({ name: 'No start' });
    const calls = (await cab.stack.emu.stats()).rest_calls;
    const r = await user.api('POST', `/api/items/${item.id}/calendar`);
    expect(r.status).toBe(422);
    expect(r.json.error.fields).toHaveProperty('starts_at');
    expect((await cab.stack.emu.stats()).rest_calls).toBe(calls);
    expect((await cab.row(item.id))!.version).toBe(1);
  });

  it('the htmx button returns the row marked "In calendar" with a toast', async () => {
    const item = await user.create({ name: 'From the page', starts_at: '2026-12-03T09:00:00Z' });
    const r = await user.ui('POST', `/ui/items/${item.id}/calendar`);
    expect(r.status).toBe(200);
    expect(r.text).toContain('In calendar');
    expect(r.text).not.toContain(`/ui/items/${item.id}/calendar`);
    expect(JSON.parse(r.headers.get('hx-trigger')!).toast).toEqual({ kind: 'success', message: 'Added to your Bitrix24 calendar' });
    expect((await cab.row(item.id))!.calendar_event_id).toMatch(/^\d+$/);
  });

  it('when the tokens expired and the refresh token is dead: 401 with a clear message, item unchanged', async () => {
    const victim = await cab.signIn(await cab.newPortal(), 3);
    const item = await victim.create({ name: 'Dead tokens', starts_at: '2026-12-04T09:00:00Z' });
    // Someone else (another process, a stolen copy) used the refresh token the app stored: it is spent.
    await cab.killTokens(victim);
    const before = await cab.rows();
    const eventsBefore = (await eventsOf(cab, victim)).length;

    const r = await victim.api('POST', `/api/items/${item.id}/calendar`);
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('unauthorized');
    expect(r.json.error.message).toMatch(/open the app again/i);
    expect(r.text).not.toContain(victim.launch.form.REFRESH_ID!);
    expect(await cab.rows()).toEqual(before);
    expect((await eventsOf(cab, victim)).length).toBe(eventsBefore);

    const ui = await victim.ui('POST', `/ui/items/${item.id}/calendar`);
    expect(ui.status).toBe(401); // the page renews its session (and the user's tokens) and repeats
    expect(await cab.rows()).toEqual(before);
  });

  it('when the app was uninstalled from the portal: a clear error status, item unchanged', async () => {
    const victim = await cab.signIn(await cab.newPortal(), 2);
    const item = await victim.create({ name: 'Uninstalled', starts_at: '2026-12-05T09:00:00Z' });
    await cab.stack.emu.uninstall(victim.portal.member_id, false);
    const before = await cab.rows();
    const r = await victim.api('POST', `/api/items/${item.id}/calendar`);
    expect([401, 404, 502]).toContain(r.status);
    expect(typeof r.json.error.message).toBe('string');
    expect(await cab.rows()).toEqual(before);
  });
});

describe('POST /api/items/:id/calendar under the operating limit', () => {
  let cab: Cabinet;
  beforeAll(async () => {
    // A direct call costs at least the 3 ms latency, so calendar.event.add crosses 2 ms on its first call;
    // the sign-in's user.current and profile run inside a batch (no latency, under 1 ms each, counted in
    // whole milliseconds) and stay under it however the clock ticks, so launches are never blocked.
    cab = await openCabinet({ emulator: { operatingLimitSeconds: 0.002, latencyMs: 3 } });
  });
  afterAll(() => cab.stop());

  it('the call after the limit is crossed: 429 rate_limited, item unchanged', async () => {
    const user = await cab.signIn(await cab.newPortal(), 2);
    const first = await user.create({ name: 'Crosses the limit', starts_at: '2026-12-06T09:00:00Z' });
    expect((await user.api('POST', `/api/items/${first.id}/calendar`)).status).toBe(200);
    const second = await user.create({ name: 'Refused', starts_at: '2026-12-06T10:00:00Z' });
    const before = await cab.rows();
    const statsBefore = await cab.stack.emu.stats(user.portal.member_id);
    const r = await user.api('POST', `/api/items/${second.id}/calendar`);
    const statsAfter = await cab.stack.emu.stats(user.portal.member_id);
    expect(r.status).toBe(429);
    expect(r.json.error.code).toBe('rate_limited');
    // Answered at once, not after waiting out the limit: Bitrix24 got the one call it refused and no
    // retry (waiting for the reset would end in one).
    expect(statsAfter.rest_calls - statsBefore.rest_calls).toBe(1);
    expect(statsAfter.operation_limited - statsBefore.operation_limited).toBe(1);
    expect(await cab.rows()).toEqual(before);
    expect((await cab.row(second.id))!.calendar_event_id).toBeNull();
  });
});
