/**
 * The row of an item in the owner's Bitrix24 calendar links to the event: the badge is a link whose
 * `data-open-path` is the portal path the island gives BX24.openPath, and whose href is that path on
 * the portal's origin (a new tab when the frame cannot open it). An item not in the calendar, or one
 * whose sync failed (the row offers the retry instead), has no such link.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { translator } from '../../views/i18n.ts';
import { waitFor } from '../support/wait-for.ts';
import { openCabinet, type Cabinet, type CabinetUser, type ItemJson } from './cabinet-harness.ts';

/** The attributes of every `a[data-open-path]` in the HTML (parsed, not pattern-matched). */
async function openLinks(html: string): Promise<Record<string, string>[]> {
  const links: Record<string, string>[] = [];
  let current: Record<string, string> | null = null;
  await new HTMLRewriter()
    .on('a[data-open-path]', {
      element(el) {
        current = Object.fromEntries(el.attributes);
        links.push(current);
      },
      text(t) {
        if (current) current.text = (current.text ?? '') + t.text;
      },
    })
    .transform(new Response(html))
    .text();
  return links;
}

let cab: Cabinet;
beforeAll(async () => {
  cab = await openCabinet();
});
afterAll(() => cab.stop());

/** The portal's browser origin as the emulator serves it (its REST endpoint's origin). */
const originOf = (user: CabinetUser) => new URL(user.portal.client_endpoint).origin;

async function linkedItem(user: CabinetUser, name: string): Promise<ItemJson & { calendar_event_id: string }> {
  const item = await user.create({ name, starts_at: '2026-12-01T10:00:00Z', ends_at: '2026-12-01T11:00:00Z' });
  const r = await user.api('POST', `/api/items/${item.id}/calendar`);
  expect(r.status).toBe(200);
  expect(r.json.calendar_event_id).toMatch(/^\d+$/);
  return r.json;
}

for (const lang of ['en', 'ru'] as const) {
  describe(`the calendar badge links to the event (${lang})`, () => {
    const t = translator(lang);
    let user: CabinetUser;
    beforeAll(async () => {
      user = await cab.signIn(await cab.newPortal({ lang }), 2);
    });

    it('a linked item: the path for BX24.openPath and the portal link, named in the user\'s language', async () => {
      const item = await linkedItem(user, lang === 'ru' ? 'Планёрка' : 'Stand-up');
      const path = `/company/personal/user/2/calendar/?EVENT_ID=${item.calendar_event_id}`;
      const row = await user.ui('GET', `/ui/items/${item.id}`);
      expect(row.status).toBe(200);
      expect(await openLinks(row.text)).toEqual([
        {
          class: 'badge badge--calendar badge--link',
          href: `${originOf(user)}${path}`,
          target: '_blank',
          rel: 'noopener',
          'data-open-path': path,
          'aria-label': t('calendarOpenLabel', { state: t('inCalendar') }),
          title: t('calendarOpenTitle'),
          text: t('inCalendar'),
        },
      ]);
      // The list (the page's own rows) carries the same link.
      const list = await user.ui('GET', '/ui/items');
      expect((await openLinks(list.text)).map((l) => l.href)).toEqual([`${originOf(user)}${path}`]);
      // The portal really shows that event there.
      const page = await fetch(`${originOf(user)}${path}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain(lang === 'ru' ? 'Планёрка' : 'Stand-up');
    });

    it('the accessible name is natural text in both languages', () => {
      expect(t('calendarOpenLabel', { state: t('inCalendar') })).toBe(lang === 'ru' ? 'В календаре — открыть в Битрикс24' : 'In calendar — open in Bitrix24');
    });

    it('an item not in the calendar has no link to Bitrix24', async () => {
      const item = await user.create({ name: 'Not linked', starts_at: '2026-12-02T10:00:00Z' });
      const row = await user.ui('GET', `/ui/items/${item.id}`);
      expect(row.status).toBe(200);
      expect(await openLinks(row.text)).toEqual([]);
      expect(row.text).not.toContain('/calendar/?EVENT_ID=');
      expect(row.text).toContain(t('addToCalendar'));
    });
  });
}

describe('the calendar badge of an item whose event is being updated or could not be', () => {
  it('while the calendar is being updated the badge still opens the event', async () => {
    const user = await cab.signIn(await cab.newPortal(), 2);
    const item = await linkedItem(user, 'Pending');
    // The row as it is between a change and its calendar write.
    await cab.stack.sql("UPDATE items SET calendar_sync = 'pending' WHERE id = ?", [item.id]);
    const links = await openLinks((await user.ui('GET', `/ui/items/${item.id}`)).text);
    expect(links.map((l) => [l['data-open-path'], l.text])).toEqual([[`/company/personal/user/2/calendar/?EVENT_ID=${item.calendar_event_id}`, translator('en')('calendarPending')]]);
  });

  it('a failed sync: no link, the badge says so and the row offers the retry', async () => {
    const user = await cab.signIn(await cab.newPortal(), 3);
    const item = await linkedItem(user, 'Will fail');
    // The user's tokens die; the next calendar write cannot be done and the item is marked failed.
    await cab.killTokens(user);
    expect((await user.api('PUT', `/api/items/${item.id}`, { version: item.version, name: 'Will fail, renamed' })).status).toBe(200);
    await waitFor(
      async () => {
        await cab.stack.server.app.runCalendarSync();
        return (await user.api('GET', `/api/items/${item.id}`)).json.calendar_sync === 'failed';
      },
      { what: 'the calendar write to fail', intervalMs: 20 },
    );
    const row = await user.ui('GET', `/ui/items/${item.id}`);
    expect(row.status).toBe(200);
    expect(await openLinks(row.text)).toEqual([]);
    expect(row.text).not.toContain('/calendar/?EVENT_ID=');
    expect(row.text).toContain(translator('en')('calendarFailed'));
    expect(row.text).toContain(`hx-post="/ui/items/${item.id}/calendar"`);
  });
});
