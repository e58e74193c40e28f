/**
 * Hostile names come back escaped in every HTML fragment and intact in JSON. The HTML is read with
 * Bun's HTMLRewriter (a real HTML tokenizer), so "escaped" means: the markup has no element or
 * event-handler attribute the name could have introduced, and the decoded text still reads as typed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { openCabinet, type Cabinet, type CabinetUser, type ItemJson } from './cabinet-harness.ts';

const HOSTILE = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' onmouseover='alert(1)",
  '</textarea><svg onload=alert(1)>',
  '{{constructor.constructor("alert(1)")()}} &amp; &lt;',
  'Ж😀'.repeat(66) + 'Ж', // 199 code points, 265 UTF-16 units
];

interface Markup {
  elements: string[];
  handlers: string[];
  inlineScripts: string[];
  /** Text and attribute values, entity-decoded. */
  decoded: string;
}

const decode = (s: string) =>
  s
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

async function readMarkup(html: string): Promise<Markup> {
  const m: Markup = { elements: [], handlers: [], inlineScripts: [], decoded: '' };
  const parts: string[] = [];
  let inScript = false;
  await new HTMLRewriter()
    .on('*', {
      element(el) {
        m.elements.push(el.tagName);
        for (const [name, value] of el.attributes) {
          if (/^on/i.test(name)) m.handlers.push(`${el.tagName}[${name}]`);
          parts.push(decode(value));
        }
        if (el.tagName === 'script' && !el.hasAttribute('src')) inScript = true;
      },
      text(t) {
        parts.push(decode(t.text));
        if (inScript && t.text.trim()) m.inlineScripts.push(t.text);
        if (t.lastInTextNode) inScript = false;
      },
    })
    .transform(new Response(html))
    .text();
  m.decoded = parts.join('');
  return m;
}

async function expectEscaped(html: string, name: string, where: string) {
  const m = await readMarkup(html);
  expect(m.handlers, where).toEqual([]);
  expect(m.elements.filter((e) => e === 'img' || e === 'svg'), where).toEqual([]);
  for (const s of m.inlineScripts) expect(s, where).not.toContain('alert');
  expect(m.decoded, where).toContain(name);
}

let cab: Cabinet;
let user: CabinetUser;

beforeAll(async () => {
  cab = await openCabinet();
  user = await cab.signIn(await cab.newPortal(), 2);
});
afterAll(() => cab.stop());

describe.each(HOSTILE.map((n) => [n.length > 40 ? `${n.slice(0, 20)}… (${[...n].length} code points)` : n, n]))('name %s', (_label, name) => {
  let item: ItemJson;

  beforeAll(async () => {
    item = await user.create({ name, data: { notes: name }, starts_at: '2026-12-01T10:00:00Z' });
  });

  it('is intact in JSON (create, get, list, search, export)', async () => {
    expect(item.name).toBe(name);
    expect(item.data).toEqual({ notes: name });
    expect((await user.api('GET', `/api/items/${item.id}`)).json.name).toBe(name);
    const list = await user.api('GET', '/api/items?limit=100');
    expect(list.json.items.find((i: ItemJson) => i.id === item.id).name).toBe(name);
    const search = await user.api('GET', `/api/items?q=${encodeURIComponent(name.slice(0, 30))}`);
    expect(search.json.items.map((i: ItemJson) => i.id)).toContain(item.id);
    const exported = await user.api('GET', '/api/export');
    expect(exported.json.items.find((i: ItemJson) => i.id === item.id).name).toBe(name);
  });

  it('is escaped in the list fragment and the search fragment', async () => {
    await expectEscaped((await user.ui('GET', '/ui/items')).text, name, '/ui/items');
    await expectEscaped((await user.ui('GET', `/ui/items?q=${encodeURIComponent(name)}`)).text, name, '/ui/items?q=');
  });

  it('is escaped in the row after create (out of band) and after update', async () => {
    const created = await user.ui('POST', '/ui/items', { name, notes: name, starts_at: '', ends_at: '' });
    expect(created.status).toBe(200);
    await expectEscaped(created.text, name, 'POST /ui/items');
    const id = /<li id="item-([0-9a-v]+)"/.exec(created.text)![1]!;
    const updated = await user.ui('PUT', `/ui/items/${id}`, { name, notes: `${name}!`, starts_at: '', ends_at: '', status: 'active', version: '1' });
    expect(updated.status).toBe(200);
    await expectEscaped(updated.text, `${name}!`, 'PUT /ui/items/:id');
    await expectEscaped((await user.ui('GET', `/ui/items/${id}`)).text, name, 'GET /ui/items/:id');
    await expectEscaped((await user.ui('POST', `/ui/items/${id}/archive`, { version: '2' })).text, name, 'archive');
  });

  it('is escaped in the edit form, the 409 form and a 422 form that echoes the input', async () => {
    await expectEscaped((await user.ui('GET', `/ui/items/${item.id}/edit`)).text, name, 'edit form');
    const conflict = await user.ui('PUT', `/ui/items/${item.id}`, { name: 'x', notes: '', starts_at: '', ends_at: '', status: 'active', version: '99' });
    expect(conflict.status).toBe(409);
    await expectEscaped(conflict.text, name, '409 form');
    const invalid = await user.ui('POST', '/ui/items', { name, notes: name, starts_at: 'not a date', ends_at: '' });
    expect(invalid.status).toBe(422);
    await expectEscaped(invalid.text, name, '422 form');
  });

  it('is escaped in the full page after a launch', async () => {
    const again = await cab.signIn(user.portal, 2);
    await expectEscaped(again.page, name, 'cabinet page');
  });
});

describe('very long Unicode names', () => {
  for (const [label, name] of [
    ['5,000 Cyrillic letters', 'Щ'.repeat(5000)],
    ['5,000 emoji', '😀'.repeat(5000)],
    ['5,000 ZWJ sequences', '👩‍💻'.repeat(5000)],
  ] as const) {
    it(`${label}: rejected by the API (422) and echoed escaped by the 422 form`, async () => {
      const before = await cab.rows();
      const api = await user.api('POST', '/api/items', { name });
      expect(api.status === 422 || api.status === 413).toBe(true);
      const ui = await user.ui('POST', '/ui/items', { name: `<b>${name}</b>`, notes: '', starts_at: '', ends_at: '' });
      expect(ui.status).toBe(422);
      const m = await readMarkup(ui.text);
      expect(m.elements).not.toContain('b');
      expect(ui.text).toContain('Name must be at most 200 characters.');
      expect(await cab.rows()).toEqual(before);
    });
  }

  it('200 code points of emoji with surrounding spaces are trimmed and kept', async () => {
    const name = '😀'.repeat(200);
    const r = await user.api('POST', '/api/items', { name: `  ${name}\n` });
    expect(r.status).toBe(201);
    expect(r.json.name).toBe(name);
  });
});

describe('a hostile Bitrix24 user name', () => {
  it('is escaped in the page header', async () => {
    const portal = await cab.newPortal({ users: [{ NAME: 'Admin' }, { NAME: '<script>alert(1)</script>', LAST_NAME: '"><img src=x onerror=alert(1)>' }] } as never);
    const u = await cab.signIn(portal, 2);
    const m = await readMarkup(u.page);
    expect(m.handlers).toEqual([]);
    expect(m.elements).not.toContain('img');
    for (const s of m.inlineScripts) expect(s).not.toContain('alert');
    expect(m.decoded).toContain('<script>alert(1)</script>');
  });
});

describe('the checker itself', () => {
  it('catches unescaped markup', async () => {
    const raw = await readMarkup(`<li><h2>"><img src=x onerror=alert(1)></h2><p><script>alert(1)</script></p></li>`);
    expect(raw.handlers).toEqual(['img[onerror]']);
    expect(raw.elements).toContain('img');
    expect(raw.inlineScripts.join('')).toContain('alert');
    const attr = await readMarkup(`<button aria-label="Actions for "><svg onload=alert(1)>">x</button>`);
    expect(attr.handlers).toEqual(['svg[onload]']);
  });
});
