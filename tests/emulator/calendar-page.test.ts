/**
 * The portal's calendar page, `GET /company/personal/user/:id/calendar/?EVENT_ID=n` (where Bitrix24
 * shows an event, and what BX24.openPath opens): the entry of that user's calendar with its name and
 * times, escaped; 404 for an entry of another calendar or none; the user's list without EVENT_ID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { rest, type EmulatedPortal } from '../support/emulator-client.ts';
import { startTestBed, type TestBed } from '../support/test-bed.ts';

let bed: TestBed;
beforeAll(async () => {
  bed = await startTestBed({ burst: 10_000 });
});
afterAll(() => bed.stop());

async function portalWithEntry(lang: 'en' | 'ru', owner: number, params: Record<string, unknown>): Promise<{ portal: EmulatedPortal; id: number }> {
  const portal = await bed.emu.createPortal({ lang });
  await bed.emu.install(portal.member_id);
  const auth = (await bed.emu.launch(portal.member_id, owner)).form.AUTH_ID!;
  const added = await rest(portal.client_endpoint, 'calendar.event.add', { type: 'user', ownerId: owner, ...params }, auth);
  expect(added.status).toBe(200);
  return { portal, id: Number(added.body.result) };
}

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', html: await res.text() };
};

describe('the calendar page of a portal', () => {
  it('shows the entry of that user\'s calendar: name, start and end in its zone, all escaped', async () => {
    const name = '<img src=x onerror=alert(1)> Stand-up & "review"';
    const { portal, id } = await portalWithEntry('en', 2, {
      name,
      description: '<script>alert(2)</script>',
      from: '2026-12-01T10:00:00',
      to: '2026-12-01T11:30:00',
      timezone_from: 'Europe/Berlin',
    });
    const page = await get(`${portal.portal_url}company/personal/user/2/calendar/?EVENT_ID=${id}&from=rest_placement&from_app=x`);
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    expect(page.html).toContain('<h1 class="b24-event-name">&lt;img src=x onerror=alert(1)&gt; Stand-up &amp; &quot;review&quot;</h1>');
    expect(page.html).not.toContain('<img');
    expect(page.html).not.toContain('<script>');
    expect(page.html).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(page.html).toContain('<time datetime="2026-12-01T10:00:00+01:00">December 1, 2026 at 10:00 AM (Europe/Berlin)</time>');
    expect(page.html).toContain('<time datetime="2026-12-01T11:30:00+01:00">');
    expect(page.html).toMatch(/<title>&lt;img src=x onerror=alert\(1\)&gt; Stand-up &amp; &quot;review&quot;<\/title>/);
  });

  it('answers 404 for an entry of another user\'s calendar, an unknown id or a bad one', async () => {
    const { portal, id } = await portalWithEntry('en', 2, { name: 'Mine', from: '2026-12-01T10:00:00Z', to: '2026-12-01T11:00:00Z' });
    for (const path of [`user/3/calendar/?EVENT_ID=${id}`, `user/2/calendar/?EVENT_ID=${id + 100}`, 'user/2/calendar/?EVENT_ID=1x', `user/99/calendar/?EVENT_ID=${id}`]) {
      const page = await get(`${portal.portal_url}company/personal/${path}`);
      expect(page.status).toBe(404);
      expect(page.html).not.toContain('Mine');
    }
  });

  it('speaks the portal\'s language, and lists the user\'s entries without EVENT_ID', async () => {
    const { portal, id } = await portalWithEntry('ru', 4, { name: 'Планёрка', from: '2026-12-01', to: '2026-12-01', skip_time: 'Y' });
    const page = await get(`${portal.portal_url}company/personal/user/4/calendar/?EVENT_ID=${id}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<h1 class="b24-event-name">Планёрка</h1>');
    expect(page.html).toContain('<dt>Начало</dt>');
    expect(page.html).toContain('<time datetime="2026-12-01">1 декабря 2026 г.</time> <span class="b24-event-all-day">(весь день)</span>');
    const list = await get(`${portal.portal_url}company/personal/user/4/calendar/`);
    expect(list.status).toBe(200);
    expect(list.html).toContain(`<a href="?EVENT_ID=${id}">Планёрка</a>`);
    expect(list.html).toContain('Календарь: Мария Сидорова');
  });
});
