/**
 * The cabinet on a Russian portal, over real HTTP: every change answers 2xx with its toast in
 * Russian. Toasts travel in the HX-Trigger header, and a header value must be ASCII (Bun refuses
 * anything else with a 500 after the change was stored), so the server writes JSON with \u escapes
 * and htmx's JSON.parse reads them back into the Russian text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { asciiJson } from '../../src/http/pages.ts';
import { openCabinet, type Cabinet, type CabinetUser, type Reply } from './cabinet-harness.ts';

let cab: Cabinet;
let user: CabinetUser;

beforeAll(async () => {
  cab = await openCabinet();
  user = await cab.signIn(await cab.newPortal({ lang: 'ru' }), 2);
});
afterAll(() => cab.stop());

/** The raw header is ASCII only; parsed, it is the Russian toast. */
function toastOf(r: Reply): { kind: string; message: string } {
  const raw = r.headers.get('hx-trigger') ?? '';
  expect(raw).toMatch(/^[\x20-\x7e]+$/);
  return JSON.parse(raw).toast;
}

const form = (fields: Record<string, string>) => ({ name: '', notes: '', starts_at: '', ends_at: '', ...fields });
const rowIdOf = (html: string) => /<li id="item-([0-9a-v]+)"/.exec(html)?.[1] ?? null;

describe('a Russian user changes items through the htmx UI', () => {
  it('creates: 200, the row, «Запись создана»', async () => {
    const r = await user.ui('POST', '/ui/items', form({ name: 'Отчёт за ноябрь', notes: 'сдать в пятницу', starts_at: '2030-01-15T10:00' }));
    expect(r.status).toBe(200);
    expect(r.text).toContain('Отчёт за ноябрь');
    expect(toastOf(r)).toEqual({ kind: 'success', message: 'Запись создана' });
    expect(JSON.parse(r.headers.get('hx-trigger')!).closeDialog).toBe(true);
    expect(await cab.row(rowIdOf(r.text)!)).toMatchObject({ name: 'Отчёт за ноябрь', version: 1 });
  });

  it('saves, archives, restores, adds to the calendar and deletes, each with its Russian toast', async () => {
    const item = await user.create({ name: 'Планёрка', data: { notes: 'заметка' }, starts_at: '2030-01-15T10:00:00Z' });
    const save = await user.ui('PUT', `/ui/items/${item.id}`, form({ name: 'Планёрка в среду', notes: 'новая заметка', starts_at: '2030-01-15T10:00', status: 'active', version: '1' }));
    expect(save.status).toBe(200);
    expect(toastOf(save)).toEqual({ kind: 'success', message: 'Изменения сохранены' });
    expect(await cab.row(item.id)).toMatchObject({ name: 'Планёрка в среду', version: 2 });

    const archive = await user.ui('POST', `/ui/items/${item.id}/archive`, { version: '2' });
    expect(archive.status).toBe(200);
    expect(toastOf(archive)).toEqual({ kind: 'success', message: 'Запись перенесена в архив' });
    expect(await cab.row(item.id)).toMatchObject({ status: 'archived', version: 3 });

    const restore = await user.ui('POST', `/ui/items/${item.id}/restore`, { version: '3' });
    expect(restore.status).toBe(200);
    expect(toastOf(restore)).toEqual({ kind: 'success', message: 'Запись восстановлена' });

    const calendar = await user.ui('POST', `/ui/items/${item.id}/calendar`);
    expect(calendar.status).toBe(200);
    expect(toastOf(calendar)).toEqual({ kind: 'success', message: 'Добавлено в ваш календарь Битрикс24' });
    expect((await cab.row(item.id))!.calendar_event_id).toMatch(/^\d+$/);

    const del = await user.ui('DELETE', `/ui/items/${item.id}`);
    expect(del.status).toBe(200);
    expect(toastOf(del)).toEqual({ kind: 'success', message: 'Запись удалена' });
    expect(await cab.row(item.id)).toBeNull();
  });

  it('a stale archive answers 200 with the Russian conflict toast', async () => {
    const item = await user.create({ name: 'Общая' });
    await user.api('PUT', `/api/items/${item.id}`, { version: 1, name: 'Изменена в другой вкладке' });
    const r = await user.ui('POST', `/ui/items/${item.id}/archive`, { version: '1' });
    expect(r.status).toBe(200);
    expect(toastOf(r).kind).toBe('error');
    expect(toastOf(r).message).toStartWith('Запись изменили');
  });

  it('an error toast from the error handler is ASCII as well (an unknown action: 404)', async () => {
    const item = await user.create({ name: 'Ёж' });
    const r = await user.ui('POST', `/ui/items/${item.id}/explode`, { version: '1' });
    expect(r.status).toBe(404);
    expect(toastOf(r)).toMatchObject({ kind: 'error', code: 'not_found' });
  });

  it('opens the create form with an ASCII after-settle trigger', async () => {
    const r = await user.ui('GET', '/ui/items/new');
    expect(r.status).toBe(200);
    expect(r.text).toContain('Новая запись');
    expect(JSON.parse(r.headers.get('hx-trigger-after-settle')!)).toMatchObject({ openDialog: true });
  });
});

describe('a Russian user reads everything in Russian', () => {
  const failures: [string, Record<string, string>, string, string][] = [
    ['a blank name', { name: '  ' }, 'name', 'Укажите название.'],
    ['a 300-character name', { name: 'Ж'.repeat(300) }, 'name', 'Название — не длиннее 200 символов.'],
    ['a start that is not a date', { name: 'x', starts_at: 'завтра' }, 'starts_at', 'Это не дата и время.'],
    ['an end before the start', { name: 'x', starts_at: '2030-01-15T10:00', ends_at: '2030-01-15T09:00' }, 'ends_at', 'Окончание не может быть раньше начала.'],
    ['an end without a start', { name: 'x', ends_at: '2030-01-15T09:00' }, 'starts_at', 'Укажите начало, если указано окончание.'],
  ];
  for (const [label, fields, key, message] of failures) {
    it(`validation: ${label} -> «${message}» (422, input kept)`, async () => {
      const r = await user.ui('POST', '/ui/items', form({ ...fields, notes: 'не потерять' }));
      expect(r.status).toBe(422);
      expect(r.text).toContain(`<p class="field__error" id="new-${key}-error">${message}</p>`);
      expect(r.text).toContain('не потерять');
    });
  }

  it('the JSON API keeps its English field messages (the domain only gives codes)', async () => {
    const r = await user.api('POST', '/api/items', { name: '', starts_at: '2030-01-15T10:00:00Z', ends_at: '2030-01-15T09:00:00Z' });
    expect(r.status).toBe(422);
    expect(r.json.error.fields).toEqual({ name: 'Name is required.', ends_at: 'The end must not be before the start.' });
  });

  it('the page, the forms and the rows contain no English text from the dictionary', async () => {
    const { allDictionaries } = await import('../../views/i18n.ts');
    const item = await user.create({ name: 'Проверка', data: { notes: 'текст' }, starts_at: '2030-01-15T10:00:00Z' });
    const texts = [
      user.page,
      (await user.ui('GET', '/ui/items/new')).text,
      (await user.ui('GET', `/ui/items/${item.id}/edit`)).text,
      (await user.ui('GET', '/ui/items?q=ничего')).text,
      (await user.ui('POST', '/ui/items', form({ name: '', starts_at: 'x' }))).text,
    ].join('\n');
    const english = Object.values(allDictionaries.en).filter((text) => /[a-z]{3}/.test(text) && !text.includes('{'));
    expect(english.filter((text) => texts.includes(text))).toEqual([]);
  });

  it('a row shows start and end as one range with the time zone; the form names the zone', async () => {
    const item = await user.create({ name: 'Встреча', starts_at: '2030-01-15T10:00:00Z', ends_at: '2030-01-15T11:30:00Z' });
    const row = (await user.ui('GET', `/ui/items/${item.id}`)).text;
    expect(row).toContain('15 янв. 2030 г., 10:00–11:30 (UTC)');
    const edit = (await user.ui('GET', `/ui/items/${item.id}/edit`)).text;
    expect(edit).toContain('Время указано по часовому поясу UTC.');
  });

  it("a user with a Bitrix24 time zone (Мария, Moscow) types and reads times in it", async () => {
    const maria = await cab.signIn(user.portal, 4);
    const r = await maria.ui('POST', '/ui/items', form({ name: 'Планёрка в Москве', starts_at: '2030-01-15T10:00', ends_at: '2030-01-15T11:00' }));
    expect(r.status).toBe(200);
    expect(await cab.row(rowIdOf(r.text)!)).toMatchObject({ starts_at: Date.UTC(2030, 0, 15, 7) / 1000, ends_at: Date.UTC(2030, 0, 15, 8) / 1000 });
    expect(r.text).toContain('15 янв. 2030 г., 10:00–11:00 (GMT+3)');
    const edit = (await maria.ui('GET', `/ui/items/${rowIdOf(r.text)}/edit`)).text;
    expect(edit).toContain('value="2030-01-15T10:00"');
    expect(edit).toContain('Время указано по часовому поясу Europe/Moscow, GMT+3.');
  });

  it("without a Bitrix24 zone the browser's zone (X-Time-Zone) is used; a Bitrix24 zone wins; an unknown name is UTC", async () => {
    const tokyo = { 'x-time-zone': 'Asia/Tokyo' };
    const r = await user.ui('POST', '/ui/items', form({ name: 'Токио', starts_at: '2030-01-15T10:00' }), tokyo);
    expect((await cab.row(rowIdOf(r.text)!))!.starts_at).toBe(Date.UTC(2030, 0, 15, 1) / 1000);
    expect(r.text).toContain('10:00 (GMT+9)');
    const maria = await cab.signIn(user.portal, 4);
    const m = await maria.ui('POST', '/ui/items', form({ name: 'Москва', starts_at: '2030-01-15T10:00' }), tokyo);
    expect((await cab.row(rowIdOf(m.text)!))!.starts_at).toBe(Date.UTC(2030, 0, 15, 7) / 1000);
    const odd = await user.ui('POST', '/ui/items', form({ name: 'Нигде', starts_at: '2030-01-15T10:00' }), { 'x-time-zone': 'Not/A_Zone<script>' });
    expect(odd.status).toBe(200);
    expect((await cab.row(rowIdOf(odd.text)!))!.starts_at).toBe(Date.UTC(2030, 0, 15, 10) / 1000);
    // The page tells the island whether the zone is Bitrix24's (then it never reloads the list).
    expect(user.page).toContain('data-zone="UTC"');
    expect(maria.page).toContain('data-zone="bitrix"');
  });

  it('the delete confirmation quotes a quoted name with „…“ inside «…»', async () => {
    const r = await user.ui('POST', '/ui/items', form({ name: 'Отчёт «Итоги»' }));
    expect(r.text).toContain('hx-confirm="Удалить «Отчёт „Итоги“»? Это действие нельзя отменить."');
  });

  it('search reads ё as е both ways, in any case', async () => {
    const other = await cab.signIn(user.portal, 4);
    const yo = await other.create({ name: 'Отчёт по ЁЛКАМ' });
    const ye = await other.create({ name: 'отчет без точек' });
    await other.create({ name: 'Совсем другое' });
    const ids = async (q: string) => [...(await other.ui('GET', `/ui/items?q=${encodeURIComponent(q)}`)).text.matchAll(/<li id="item-([0-9a-v]+)"/g)].map((m) => m[1]).sort();
    const both = [yo.id, ye.id].sort();
    expect(await ids('отчет')).toEqual(both);
    expect(await ids('ОТЧЁТ')).toEqual(both);
    expect(await ids('елкам')).toEqual([yo.id]);
    const api = await other.api('GET', `/api/items?q=${encodeURIComponent('Ёлкам')}`);
    expect(api.json.items.map((i: { id: string }) => i.id)).toEqual([yo.id]);
  });
});

describe('asciiJson (every JSON header value)', () => {
  const samples = ['Запись создана', 'ёЁ «„“»', 'emoji 🎉 and \u007f', 'tab\tnew\nline "quoted" \\ back', 'lone \ud800 surrogate', 'Jürgen Müller'];
  for (const text of samples) {
    it(`is printable ASCII and parses back to ${JSON.stringify(text)}`, () => {
      const value = asciiJson({ toast: { message: text } });
      expect(value).toMatch(/^[\x20-\x7e]+$/);
      expect(JSON.parse(value).toast.message).toBe(text);
      // And Bun takes it as a header value (the 500 of issue 10 was this line throwing).
      expect(new Headers({ 'hx-trigger': value }).get('hx-trigger')).toBe(value);
    });
  }
});
