/**
 * The htmx side of the cabinet: fragments under /ui/items, as htmx sends them (form-encoded bodies,
 * `HX-Request`, the session as a Bearer header). Replies are the same partials the page renders;
 * success and failure travel as `HX-Trigger` toasts; 422 and 409 carry a form to swap in place.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { openCabinet, type Cabinet, type CabinetUser, type ItemJson, type Reply } from './cabinet-harness.ts';

let cab: Cabinet;
let user: CabinetUser;

beforeAll(async () => {
  cab = await openCabinet();
  user = await cab.signIn(await cab.newPortal(), 2);
});
afterAll(() => cab.stop());

const trigger = (r: Reply) => JSON.parse(r.headers.get('hx-trigger') ?? '{}');
const form = (fields: Partial<Record<'name' | 'notes' | 'starts_at' | 'ends_at' | 'status' | 'version', string>>) => ({
  name: '',
  notes: '',
  starts_at: '',
  ends_at: '',
  ...fields,
});
const rowIdOf = (html: string) => /<li id="item-([0-9a-v]+)"/.exec(html)?.[1] ?? null;
const inputValue = (html: string, name: string) => {
  const m = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html) ?? new RegExp(`<input[^>]*value="([^"]*)"[^>]*name="${name}"`).exec(html);
  return m ? m[1]! : null;
};

describe('GET /ui/items/new', () => {
  it('returns the empty create form and opens the dialog', async () => {
    const r = await user.ui('GET', '/ui/items/new');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.text).toContain('hx-post="/ui/items"');
    // After the swap, so the dialog opens on the form and can focus its first field.
    expect(JSON.parse(r.headers.get('hx-trigger-after-settle')!)).toEqual({ openDialog: true });
  });
});

describe('POST /ui/items', () => {
  it('creates: the row out of band at the top of the list, a success toast, the dialog closes', async () => {
    const r = await user.ui('POST', '/ui/items', form({ name: '  Plan trip ', notes: 'pack bags', starts_at: '2026-12-01T10:00' }));
    expect(r.status).toBe(200);
    expect(r.text).toStartWith('<ul hx-swap-oob="afterbegin:#item-list"><li id="item-');
    expect(r.text).toContain('Plan trip');
    expect(r.text).toContain('pack bags');
    expect(trigger(r)).toEqual({ closeDialog: true, toast: { kind: 'success', message: 'Item created' } });
    const id = rowIdOf(r.text)!;
    expect(await cab.row(id)).toMatchObject({ name: 'Plan trip', data: '{"notes":"pack bags"}', owner_id: 2 });
  });

  it('the same form sent twice (a retry after a failed answer, a double click) creates one item', async () => {
    const draftId = inputValue((await user.ui('GET', '/ui/items/new')).text, 'draft_id')!;
    expect(draftId).toMatch(/^[0-9a-v]{10}[0-9a-f]{16}$/);
    const fields = { ...form({ name: 'Only once' }), draft_id: draftId };
    const [a, b] = await Promise.all([user.ui('POST', '/ui/items', fields), user.ui('POST', '/ui/items', fields)]);
    const c = await user.ui('POST', '/ui/items', fields);
    for (const r of [a, b, c]) {
      expect(r.status).toBe(200);
      expect(rowIdOf(r.text)).toBe(draftId);
      expect(trigger(r).toast.kind).toBe('success');
    }
    expect((await cab.rows()).filter((row) => row.name === 'Only once')).toHaveLength(1);
  });

  it("a draft id that is another user's item, or garbage, gets a fresh id and touches nothing else", async () => {
    const other = await cab.signIn(user.portal, 3);
    const theirs = await other.create({ name: 'Not yours' });
    for (const draft_id of [theirs.id, 'garbage', '']) {
      const r = await user.ui('POST', '/ui/items', { ...form({ name: `Mine ${draft_id}` }), draft_id });
      expect(r.status).toBe(200);
      expect(rowIdOf(r.text)).not.toBe(theirs.id);
      expect(r.text).not.toContain('Not yours');
    }
    expect(await cab.row(theirs.id)).toMatchObject({ name: 'Not yours', owner_id: 3, version: 1 });
  });

  const failures: [string, Record<string, string>, string, string][] = [
    ['a blank name', form({ name: '   ', notes: 'keep me' }), 'name', 'Name is required.'],
    ['a 5,000-character name', form({ name: 'Ж'.repeat(5000), notes: 'keep me' }), 'name', 'Name must be at most 200 characters.'],
    ['a start that is not a date', form({ name: 'x', notes: 'keep me', starts_at: 'tomorrow' }), 'starts_at', 'Not a date and time.'],
    ['an impossible date', form({ name: 'x', notes: 'keep me', starts_at: '2026-13-45T10:00' }), 'starts_at', 'Not a date and time.'],
    ['an end before the start', form({ name: 'x', notes: 'keep me', starts_at: '2026-12-01T10:00', ends_at: '2026-12-01T09:00' }), 'ends_at', 'The end must not be before the start.'],
  ];
  for (const [label, fields, key, message] of failures) {
    it(`re-renders the form with the input and the message (422) for ${label}`, async () => {
      const before = await cab.rows();
      const r = await user.ui('POST', '/ui/items', fields);
      expect(r.status).toBe(422);
      expect(r.text).toContain('<form class="item-form"');
      expect(r.text).toContain(`id="new-${key}-error"`);
      expect(r.text).toContain(message);
      expect(r.text).toContain('aria-invalid="true"');
      expect(inputValue(r.text, 'name')).toBe(fields.name!);
      expect(r.text).toContain('keep me');
      if (fields.starts_at) expect(inputValue(r.text, 'starts_at')).toBe(fields.starts_at);
      expect(await cab.rows()).toEqual(before);
    });
  }

  it('401 without a session: no toast (the page renews its session and repeats), nothing created', async () => {
    const before = await cab.rows();
    const r = await cab.raw('POST', '/ui/items', {
      headers: { 'hx-request': 'true', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=x',
    });
    expect(r.status).toBe(401);
    expect(r.headers.get('hx-trigger')).toBeNull();
    expect(await cab.rows()).toEqual(before);
  });
});

describe('inline edit', () => {
  it('GET /ui/items/:id/edit shows the form with the current values and version', async () => {
    const item = await user.create({ name: 'Edit me', data: { notes: 'n1' }, starts_at: '2026-12-01T10:00:00Z' });
    const r = await user.ui('GET', `/ui/items/${item.id}/edit`);
    expect(r.status).toBe(200);
    expect(r.text).toStartWith(`<li id="item-${item.id}" class="item-row item-row--editing">`);
    expect(inputValue(r.text, 'name')).toBe('Edit me');
    expect(inputValue(r.text, 'version')).toBe('1');
    expect(inputValue(r.text, 'starts_at')).toBe('2026-12-01T10:00');
    expect(r.text).toContain('n1');
  });

  it('PUT /ui/items/:id saves and returns the row with a toast', async () => {
    const item = await user.create({ name: 'Old', data: { notes: 'old notes' } });
    const r = await user.ui('PUT', `/ui/items/${item.id}`, form({ name: 'New', notes: 'new notes', status: 'active', version: '1' }));
    expect(r.status).toBe(200);
    expect(r.text).toStartWith(`<li id="item-${item.id}" class="item-row item-row--active" tabindex="-1">`);
    expect(r.text).toContain('New');
    expect(trigger(r)).toEqual({ toast: { kind: 'success', message: 'Changes saved' } });
    expect(await cab.row(item.id)).toMatchObject({ name: 'New', version: 2 });
  });

  it('keeps the data keys the form does not show (only notes is edited)', async () => {
    const item = await user.create({ name: 'Rich', data: { notes: 'a', color: 'red', tags: ['x'] } });
    const r = await user.ui('PUT', `/ui/items/${item.id}`, form({ name: 'Rich', notes: 'b', status: 'active', version: '1' }));
    expect(r.status).toBe(200);
    expect(JSON.parse((await cab.row(item.id))!.data!)).toEqual({ notes: 'b', color: 'red', tags: ['x'] });
    const cleared = await user.ui('PUT', `/ui/items/${item.id}`, form({ name: 'Rich', notes: '', status: 'active', version: '2' }));
    expect(cleared.status).toBe(200);
    expect(JSON.parse((await cab.row(item.id))!.data!)).toEqual({ color: 'red', tags: ['x'] });
  });

  it('a stale edit answers 409 keeping the typed text, with the stored values beside it and the new version', async () => {
    const item = await user.create({ name: 'Shared' });
    await user.api('PUT', `/api/items/${item.id}`, { version: 1, name: 'Changed elsewhere', data: { notes: 'their notes' } });
    const before = await cab.rows();
    const r = await user.ui('PUT', `/ui/items/${item.id}`, form({ name: 'My change', notes: 'my notes', status: 'active', version: '1' }));
    expect(r.status).toBe(409);
    expect(r.text).toContain('class="notice notice--warning" role="alert"');
    expect(r.text).toContain('Someone changed this item meanwhile');
    expect(r.text).toContain('<dd>Changed elsewhere</dd>');
    expect(r.text).toContain('<dd>their notes</dd>');
    expect(inputValue(r.text, 'name')).toBe('My change');
    expect(r.text).toContain('>my notes</textarea>');
    expect(inputValue(r.text, 'version')).toBe('2');
    expect(await cab.rows()).toEqual(before);
    // Saving again is a deliberate overwrite with the user's text.
    const again = await user.ui('PUT', `/ui/items/${item.id}`, form({ name: 'My change', notes: 'my notes', status: 'active', version: '2' }));
    expect(again.status).toBe(200);
    expect(await cab.row(item.id)).toMatchObject({ name: 'My change', version: 3 });
  });

  it('an invalid edit answers 422 with the input kept', async () => {
    const item = await user.create({ name: 'Valid' });
    const r = await user.ui('PUT', `/ui/items/${item.id}`, form({ name: '', notes: 'typed', status: 'active', version: '1' }));
    expect(r.status).toBe(422);
    expect(r.text).toContain('Name is required.');
    expect(r.text).toContain('typed');
    expect((await cab.row(item.id))!.name).toBe('Valid');
  });

  it('a missing or garbage version is a conflict, not a 500', async () => {
    const item = await user.create({ name: 'Versionless' });
    for (const version of [undefined, 'abc', '1e3', '-1']) {
      const fields = form({ name: 'x', status: 'active' });
      if (version !== undefined) (fields as Record<string, string>).version = version;
      const r = await user.ui('PUT', `/ui/items/${item.id}`, fields);
      expect(r.status).toBe(409);
    }
    expect((await cab.row(item.id))!.name).toBe('Versionless');
  });

  it('GET /ui/items/:id (cancel) returns the row', async () => {
    const item = await user.create({ name: 'Cancel me' });
    const r = await user.ui('GET', `/ui/items/${item.id}`);
    expect(r.status).toBe(200);
    expect(r.text).toStartWith(`<li id="item-${item.id}"`);
  });
});

describe('archive, restore, delete', () => {
  it('archives and restores with toasts', async () => {
    const item = await user.create({ name: 'Cycle' });
    const a = await user.ui('POST', `/ui/items/${item.id}/archive`, { version: '1' });
    expect(a.status).toBe(200);
    expect(a.text).toContain('item-row--archived');
    expect(a.text).toContain(`hx-post="/ui/items/${item.id}/restore"`);
    expect(trigger(a)).toEqual({ toast: { kind: 'success', message: 'Item archived' } });
    expect(await cab.row(item.id)).toMatchObject({ status: 'archived', version: 2 });
    const r = await user.ui('POST', `/ui/items/${item.id}/restore`, { version: '2' });
    expect(r.text).toContain('item-row--active');
    expect(trigger(r)).toEqual({ toast: { kind: 'success', message: 'Item restored' } });
    expect(await cab.row(item.id)).toMatchObject({ status: 'active', version: 3 });
  });

  it('a stale archive shows the current row with an error toast and changes nothing', async () => {
    const item = await user.create({ name: 'Stale' });
    await user.api('PUT', `/api/items/${item.id}`, { version: 1, name: 'Renamed' });
    const before = await cab.rows();
    const r = await user.ui('POST', `/ui/items/${item.id}/archive`, { version: '1' });
    expect(r.status).toBe(200);
    expect(r.text).toContain('Renamed');
    expect(trigger(r).toast.kind).toBe('error');
    expect(await cab.rows()).toEqual(before);
  });

  it('an unknown action is a 404', async () => {
    const item = await user.create({ name: 'x' });
    expect((await user.ui('POST', `/ui/items/${item.id}/explode`, { version: '1' })).status).toBe(404);
  });

  it('deletes with a toast and an empty body', async () => {
    const item = await user.create({ name: 'Delete me' });
    const r = await user.ui('DELETE', `/ui/items/${item.id}`);
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
    expect(trigger(r)).toEqual({ toast: { kind: 'success', message: 'Item deleted' } });
    expect(await cab.row(item.id)).toBeNull();
  });
});

describe('the list stays true: filters and items gone elsewhere', () => {
  const filtered = (filter: Record<string, string>) => ({ 'x-list-filter': new URLSearchParams(filter).toString() });

  it('a new item that the search would not show is created but not added to the list', async () => {
    const r = await user.ui('POST', '/ui/items', form({ name: 'Outside the search' }), filtered({ q: 'zzz', status: '' }));
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
    expect(trigger(r)).toEqual({ closeDialog: true, toast: { kind: 'success', message: 'Item created. It is hidden by the current search or filter.' } });
    expect((await cab.rows()).some((row) => row.name === 'Outside the search')).toBe(true);
    const shown = await user.ui('POST', '/ui/items', form({ name: 'zzz inside' }), filtered({ q: 'ZZZ', status: 'active' }));
    expect(shown.text).toContain('hx-swap-oob="afterbegin:#item-list"');
  });

  it('restoring under "Archived" and archiving under "Active" remove the row (HX-Reswap: delete)', async () => {
    const item = await user.create({ name: 'Filtered', status: 'archived' });
    const restore = await user.ui('POST', `/ui/items/${item.id}/restore`, { version: '1' }, filtered({ q: '', status: 'archived' }));
    expect(restore.status).toBe(200);
    expect(restore.text).toBe('');
    expect(restore.headers.get('hx-reswap')).toBe('delete');
    expect(trigger(restore).toast.message).toBe('Item restored. It is hidden by the current search or filter.');
    const archive = await user.ui('POST', `/ui/items/${item.id}/archive`, { version: '2' }, filtered({ q: '', status: 'active' }));
    expect(archive.headers.get('hx-reswap')).toBe('delete');
    expect(await cab.row(item.id)).toMatchObject({ status: 'archived', version: 3 });
    const all = await user.ui('POST', `/ui/items/${item.id}/restore`, { version: '3' }, filtered({ q: '', status: '' }));
    expect(all.headers.get('hx-reswap')).toBeNull();
    expect(all.text).toContain(`id="item-${item.id}"`);
  });

  it('a rename that leaves the search removes the row', async () => {
    const item = await user.create({ name: 'Apple pie' });
    const r = await user.ui('PUT', `/ui/items/${item.id}`, form({ name: 'Cherry pie', status: 'active', version: '1' }), filtered({ q: 'apple' }));
    expect(r.headers.get('hx-reswap')).toBe('delete');
    expect((await cab.row(item.id))!.name).toBe('Cherry pie');
  });

  it('an item deleted in another tab: every row action answers 404 that removes the ghost row and says so', async () => {
    const item = await user.create({ name: 'Ghost' });
    await user.api('DELETE', `/api/items/${item.id}`);
    const calls: [string, string, Record<string, string>?][] = [
      ['GET', `/ui/items/${item.id}/edit`],
      ['GET', `/ui/items/${item.id}`],
      ['PUT', `/ui/items/${item.id}`, form({ name: 'x', status: 'active', version: '1' })],
      ['POST', `/ui/items/${item.id}/archive`, { version: '1' }],
      ['POST', `/ui/items/${item.id}/calendar`, {}],
      ['DELETE', `/ui/items/${item.id}`],
    ];
    for (const [method, path, body] of calls) {
      const r = await user.ui(method, path, body);
      expect([method, path, r.status, r.headers.get('hx-reswap'), r.text]).toEqual([method, path, 404, 'delete', '']);
      expect(trigger(r).toast).toEqual({ kind: 'error', message: 'This item no longer exists.' });
    }
    expect(await cab.row(item.id)).toBeNull();
  });
});

describe('GET /ui/items (search fragment)', () => {
  let u: CabinetUser;
  let items: ItemJson[];
  beforeAll(async () => {
    u = await cab.signIn(await cab.newPortal(), 3);
    items = [];
    for (const name of ['Buy milk', 'Buy bread', 'Call mom']) items.push(await u.create({ name }));
    await u.api('PUT', `/api/items/${items[1]!.id}`, { version: 1, status: 'archived' });
  });

  it('returns the matching rows newest first, with the empty state for searching', async () => {
    const r = await u.ui('GET', '/ui/items?q=buy');
    expect(r.status).toBe(200);
    expect([...r.text.matchAll(/<li id="item-([0-9a-v]+)"/g)].map((m) => m[1])).toEqual([items[1]!.id, items[0]!.id]);
    expect(r.text).toContain('Nothing matches your search.');
    expect(r.text).not.toContain('load-more');
  });

  it('filters by status', async () => {
    const r = await u.ui('GET', '/ui/items?q=&status=archived');
    expect([...r.text.matchAll(/<li id="item-([0-9a-v]+)"/g)].map((m) => m[1])).toEqual([items[1]!.id]);
  });

  it('shows the first-use empty state without a search', async () => {
    const empty = await cab.signIn(await cab.newPortal(), 4);
    const r = await empty.ui('GET', '/ui/items');
    expect(r.text).toContain('No items yet');
    expect(r.text).not.toContain('<li id="item-');
  });

  const odd = ['/ui/items?q=a&q=b', '/ui/items?status=a&status=b', '/ui/items?cursor=x', '/ui/items?cursor=', `/ui/items?q=${'я'.repeat(500)}`, '/ui/items?q=%00%ff'];
  for (const path of odd) {
    it(`never a 500 for ${path.slice(0, 40)}`, async () => {
      const r = await u.ui('GET', path);
      expect(r.status).toBeLessThan(500);
    });
  }
});
