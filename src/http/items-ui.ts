/**
 * The cabinet's HTML: the full page (rendered by a launch) and the htmx fragments under /ui.
 * Every fragment is a view component that also appears in the full page, so a swap never differs
 * from a reload. Success and failure messages travel as HX-Trigger toasts (pages.ts).
 *
 * Errors go to the one handler (errors.ts), except what only this room can render: a form that did
 * not validate comes back as the form with its messages (422), a save that lost a race as the form
 * beside the stored values (409), and a row that is gone removes itself (404 with HX-Reswap).
 */
import { Elysia } from 'elysia';
import { CabinetPage } from '../../views/cabinet-page.tsx';
import type { DateFormats } from '../../views/format.ts';
import { translator, type MessageKey } from '../../views/i18n.ts';
import { CreateItemForm, EditItemForm, emptyFormValues, formValuesOf, type ItemFormValues } from '../../views/item-form.tsx';
import { EmptyState, ItemPage } from '../../views/item-list.tsx';
import { ItemRow } from '../../views/item-list.tsx';
import type { ItemView, ListState, ViewContext } from '../../views/view-model.ts';
import { linkableOrigin } from '../auth/portal-domain.ts';
import type { Sessions, IssuedSession } from '../auth/sessions.ts';
import type { SignIn } from '../auth/sign-in.ts';
import { isAppError, type AppError, type ErrorCode } from '../domain/errors.ts';
import type { ItemService } from '../domain/item-service.ts';
import { foldForSearch, isItemId, isStatus, type FieldIssue, type ItemDraft } from '../domain/items.ts';
import type { Actor, Item, User } from '../domain/types.ts';
import type { RequestMeta } from './edge.ts';
import type { Pages, Toast, View } from './pages.ts';
import { readForm } from './request.ts';
import { sessionGuard } from './session.ts';

export interface CabinetRenderer {
  renderPage(actor: Actor, user: User, session: IssuedSession): Promise<View>;
}

const toView = (i: Item): ItemView => ({
  id: i.id,
  ownerId: i.ownerId,
  name: i.name,
  notes: typeof i.data?.notes === 'string' ? i.data.notes : '',
  status: i.status,
  startsAt: i.startsAt,
  endsAt: i.endsAt,
  calendarEventId: i.calendarEventId,
  calendarSync: i.calendarSync,
  updatedAt: i.updatedAt,
  version: i.version,
});

/** `data` with `notes` replaced (or removed when blank); null when nothing is left. */
const withNotes = (data: Record<string, unknown> | null, notes: string): Record<string, unknown> | null => {
  const { notes: _old, ...rest } = data ?? {};
  const next = notes.trim() ? { ...rest, notes: notes.trim() } : rest;
  return Object.keys(next).length ? next : null;
};

/** Form fields (datetime-local in the user's zone) -> a draft, or per-field problems. */
function readDraft(form: URLSearchParams, v: ViewContext): { draft: Partial<ItemDraft>; values: ItemFormValues; errors: Record<string, string> } {
  const values: ItemFormValues = {
    name: form.get('name') ?? '',
    notes: form.get('notes') ?? '',
    startsAt: form.get('starts_at') ?? '',
    endsAt: form.get('ends_at') ?? '',
    status: form.get('status') === 'archived' ? 'archived' : 'active',
  };
  const errors: Record<string, string> = {};
  const startsAt = v.dates.parseInput(values.startsAt);
  const endsAt = v.dates.parseInput(values.endsAt);
  if (startsAt === undefined) errors.starts_at = 'not_a_date' satisfies FieldIssue;
  if (endsAt === undefined) errors.ends_at = 'not_a_date' satisfies FieldIssue;
  const draft: Partial<ItemDraft> = {
    name: values.name,
    data: values.notes.trim() ? { notes: values.notes.trim() } : null,
    status: values.status,
    startsAt: startsAt ?? null,
    endsAt: endsAt ?? null,
  };
  return { draft, values, errors };
}

const listState = (query: Record<string, string | undefined>): ListState => ({
  q: (query.q ?? '').slice(0, 200),
  status: isStatus(query.status) ? query.status : '',
});

/**
 * The list's filter as the page shows it (the island sends the filter form as X-List-Filter with
 * every request), so that a change keeps the list true to it: a row that no longer matches leaves
 * the list, a new one that does not match is not added, and the toast says why.
 */
const filterOf = (request: Request): ListState => listState(Object.fromEntries(new URLSearchParams(request.headers.get('x-list-filter') ?? '')));
const matches = (item: Item, f: ListState) =>
  (!f.status || item.status === f.status) && (!f.q.trim() || foldForSearch(item.name).includes(foldForSearch(f.q.trim())));

/** Whether `e` is the app's error with that code (and so carries its details). */
const failedWith = (e: unknown, code: ErrorCode): e is AppError => isAppError(e) && e.code === code;
const success = (v: ViewContext, key: MessageKey): Toast => ({ kind: 'success', message: v.t(key) });
const hiddenNote = (v: ViewContext, key: MessageKey): Toast => ({ kind: 'success', message: v.t('hiddenByFilter', { message: v.t(key) }) });

export interface ItemsUiDeps {
  items: ItemService;
  signIn: Pick<SignIn, 'whoIs'>;
  sessions: Sessions;
  appOrigin: string;
  pages: Pages;
  dates: DateFormats;
  /** Told the session's portal (the access log). */
  meta?: RequestMeta;
}

export function createItemsUi({ items, signIn, sessions, appOrigin, pages, dates, meta }: ItemsUiDeps) {
  /**
   * The user's language and time zone: Bitrix24's TIME_ZONE when the user has one, else the browser's
   * (the island sends it as X-Time-Zone with every htmx request; an unknown name falls back to UTC).
   */
  const viewFor = async (actor: Actor, request?: Request): Promise<ViewContext> => {
    const who = await signIn.whoIs(actor);
    const user = who?.user;
    const lang = user?.lang ?? 'en';
    const browserZone = request?.headers.get('x-time-zone')?.slice(0, 64) || null;
    return {
      t: translator(lang),
      lang,
      dates: dates.of(lang, user?.timeZone ?? browserZone),
      url: pages.url,
      zoneFromBitrix: Boolean(user?.timeZone),
      portalOrigin: who ? linkableOrigin(who.portal.clientEndpoint) : null,
    };
  };

  const renderer: CabinetRenderer = {
    async renderPage(actor, user, session) {
      const v = await viewFor(actor);
      const page = await items.list(actor, {});
      return CabinetPage({
        v,
        assets: pages.assets(true),
        user: { name: user.name, photoUrl: user.photoUrl, isAdmin: user.isAdmin },
        session,
        page: { items: page.items.map(toView), nextCursor: page.nextCursor },
        state: { q: '', status: '' },
      });
    },
  };

  const row = (item: Item, v: ViewContext, toast?: Toast) => pages.fragment(ItemRow({ item: toView(item), v }), { toast });

  /** A changed row: itself, or (when the filter no longer shows it) its removal. */
  const rowReply = (item: Item, v: ViewContext, request: Request, toastKey: MessageKey) =>
    matches(item, filterOf(request)) ? row(item, v, success(v, toastKey)) : pages.fragment('', { toast: hiddenNote(v, toastKey), reswap: 'delete' });

  /**
   * The item is gone (deleted in another tab; or never this user's, which looks the same): still a 404,
   * but one that removes its row (the island swaps a 404 that says HX-Reswap: delete) instead of
   * leaving a ghost row whose every button fails.
   */
  const orGone = async (v: ViewContext, act: () => Promise<Response>): Promise<Response> => {
    try {
      return await act();
    } catch (e) {
      if (!failedWith(e, 'not_found')) throw e;
      return pages.fragment('', { status: 404, toast: { kind: 'error', message: v.t('errorNotFound') }, reswap: 'delete' });
    }
  };

  /**
   * Archive or restore: the row, or (someone else changed it first) the current row and why. A linked
   * item keeps its calendar event, and the toast says so (`linkedToastKey`).
   */
  const setStatus = (status: 'archived' | 'active', toastKey: MessageKey, linkedToastKey: MessageKey = toastKey) =>
    async ({ actor, params, request }: { actor: Actor; params: { id: string }; request: Request }) => {
      const v = await viewFor(actor, request);
      const version = Number((await readForm(request)).get('version'));
      return orGone(v, async () => {
        try {
          const item = await items.update(actor, params.id, version, { status });
          return rowReply(item, v, request, item.calendarEventId ? linkedToastKey : toastKey);
        } catch (e) {
          if (!failedWith(e, 'conflict')) throw e;
          return row(e.details!.current as Item, v, { kind: 'error', message: v.t('conflict') });
        }
      });
    };

  const routes = new Elysia({ name: 'items-ui' })
    .use(sessionGuard(sessions, appOrigin, meta))
    .get('/ui/items', async ({ actor, query, request }) => {
      const v = await viewFor(actor, request);
      const state = listState(query);
      const page = await items.list(actor, { q: state.q, status: state.status || undefined, cursor: query.cursor || undefined });
      const rows = ItemPage({ items: page.items.map(toView), nextCursor: page.nextCursor, state, v });
      // A next page is appended in place of "load more"; a new search replaces the list, empty state included.
      return pages.fragment(query.cursor ? rows : `${EmptyState({ v, searching: Boolean(state.q || state.status) })}${rows}`);
    })
    .get('/ui/items/new', async ({ actor, request }) => {
      const v = await viewFor(actor, request);
      // After the swap, so that the dialog opens on the form and can focus its first field.
      return pages.fragment(CreateItemForm({ values: emptyFormValues, errors: {}, draftId: items.newDraftId(), v }), { afterSettle: { openDialog: true } });
    })
    .post(
      '/ui/items',
      async ({ actor, request }) => {
        const v = await viewFor(actor, request);
        const form = await readForm(request);
        const { draft, values, errors } = readDraft(form, v);
        const proposed = form.get('draft_id');
        const draftId = isItemId(proposed) ? proposed : items.newDraftId();
        const again = (errs: Record<string, string>) => pages.fragment(CreateItemForm({ values, errors: errs, draftId, v }), { status: 422 });
        if (Object.keys(errors).length) return again(errors);
        let item: Item;
        try {
          item = await items.create(actor, { ...draft, name: draft.name }, draftId);
        } catch (e) {
          if (failedWith(e, 'unprocessable')) return again(e.details?.fields ?? {});
          throw e;
        }
        // The dialog closes; a new row that the list's filter would not show is not added.
        if (!matches(item, filterOf(request))) return pages.fragment('', { toast: hiddenNote(v, 'created'), events: { closeDialog: true } });
        // The new row goes to the top of the list out of band; only the server knows its id, so the
        // page focuses (and so shows) it once it is in place.
        return pages.fragment(`<ul hx-swap-oob="afterbegin:#item-list">${ItemRow({ item: toView(item), v })}</ul>`, {
          toast: success(v, 'created'),
          events: { closeDialog: true },
          afterSettle: { focusRow: `item-${item.id}` },
        });
      },
      { parse: 'none' },
    )
    .get('/ui/items/:id', async ({ actor, params, request }) => {
      const v = await viewFor(actor, request);
      return orGone(v, async () => row(await items.find(actor, params.id), v));
    })
    .get('/ui/items/:id/edit', async ({ actor, params, request }) => {
      const v = await viewFor(actor, request);
      return orGone(v, async () => {
        const item = toView(await items.find(actor, params.id));
        return pages.fragment(EditItemForm({ item, values: formValuesOf(item, v), errors: {}, v }));
      });
    })
    .put(
      '/ui/items/:id',
      async ({ actor, params, request }) => {
        const v = await viewFor(actor, request);
        const form = await readForm(request);
        const { draft, values, errors } = readDraft(form, v);
        return orGone(v, async () => {
          const stored = await items.find(actor, params.id);
          const edit = (item: ItemView, errs: Record<string, string>, status: number, conflict?: ItemFormValues) =>
            pages.fragment(EditItemForm({ item, values, errors: errs, conflict, v }), { status });
          if (Object.keys(errors).length) return edit(toView(stored), errors, 422);
          // The form edits only `notes`; every other key of `data` (set through the API) is kept.
          draft.data = withNotes(stored.data, values.notes);
          try {
            return rowReply(await items.update(actor, params.id, Number(form.get('version')), draft), v, request, 'saved');
          } catch (e) {
            if (failedWith(e, 'unprocessable')) return edit(toView(stored), e.details?.fields ?? {}, 422);
            if (!failedWith(e, 'conflict')) throw e;
            // Someone saved first: keep what this user typed, show the stored values beside it, and
            // take the new version, so that saving again is a deliberate overwrite.
            const latest = toView(e.details!.current as Item);
            return edit(latest, {}, 409, formValuesOf(latest, v));
          }
        });
      },
      { parse: 'none' },
    )
    .post('/ui/items/:id/archive', setStatus('archived', 'archivedToast', 'archivedKeepsEvent'), { parse: 'none' })
    .post('/ui/items/:id/restore', setStatus('active', 'restoredToast'), { parse: 'none' })
    .post('/ui/items/:id/calendar', async ({ actor, params, request }) => {
      const v = await viewFor(actor, request);
      return orGone(v, async () => {
        try {
          const before = await items.find(actor, params.id);
          const item = await items.linkCalendar(actor, params.id);
          return rowReply(item, v, request, before.calendarSync === 'failed' ? 'calendarRetried' : 'calendarAdded');
        } catch (e) {
          if (!failedWith(e, 'unprocessable')) throw e;
          // The row was stale (its start removed elsewhere): show the current row and say why.
          return row(await items.find(actor, params.id), v, { kind: 'error', message: v.t('calendarNeedsStart') });
        }
      });
    })
    .delete('/ui/items/:id', async ({ actor, params, request }) => {
      const v = await viewFor(actor, request);
      return orGone(v, async () => {
        await items.remove(actor, params.id);
        return pages.fragment('', { toast: success(v, 'deleted') });
      });
    });

  return { renderer, routes, viewFor };
}
