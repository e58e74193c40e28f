/**
 * The cabinet's HTML: the full page (rendered by the launch) and the htmx fragments under /ui.
 * Every fragment is a view component that also appears in the full page, so a swap never differs
 * from a reload. Success and failure messages travel as HX-Trigger toasts.
 */
import { Elysia } from 'elysia';
import { CabinetPage } from '../../views/cabinet-page.tsx';
import { dateFormat, parseLocalInput } from '../../views/format.ts';
import { translator, type MessageKey } from '../../views/i18n.ts';
import { CreateItemForm, EditItemForm, emptyFormValues, formValuesOf, type ItemFormValues } from '../../views/item-form.tsx';
import { EmptyState, ItemPage } from '../../views/item-list.tsx';
import { ItemRow } from '../../views/item-row.tsx';
import type { ItemView, ListState, ViewContext } from '../../views/view-model.ts';
import type { IssuedSession } from '../auth/sessions.ts';
import { AppError, isAppError } from '../domain/errors.ts';
import type { ItemService } from '../domain/item-service.ts';
import { foldForSearch, isItemId, isStatus, newItemId, type FieldIssue, type ItemDraft } from '../domain/items.ts';
import type { Actor, Item, User } from '../domain/types.ts';
import type { RouteContext } from './context.ts';
import { setHxTrigger } from './hx-headers.ts';
import { readForm } from './request-form.ts';
import { requireActor, sessionGuard } from './session-guard.ts';

export interface CabinetRenderer {
  renderPage(args: { actor: Actor; user: User; session: IssuedSession }): Promise<string>;
}

const toView = (i: Item): ItemView => ({
  id: i.id,
  name: i.name,
  notes: typeof i.data?.notes === 'string' ? i.data.notes : '',
  status: i.status,
  startsAt: i.startsAt,
  endsAt: i.endsAt,
  calendarEventId: i.calendarEventId,
  updatedAt: i.updatedAt,
  version: i.version,
});

/** `data` with `notes` replaced (or removed when blank); null when nothing is left. */
const withNotes = (data: Record<string, unknown> | null, notes: string): Record<string, unknown> | null => {
  const { notes: _old, ...rest } = data ?? {};
  const next = notes.trim() ? { ...rest, notes: notes.trim() } : rest;
  return Object.keys(next).length ? next : null;
};

const html = (body: string, status = 200, toast?: { kind: 'success' | 'error'; message: string }, extra: Record<string, unknown> = {}) => {
  const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };
  setHxTrigger(headers, { ...extra, ...(toast ? { toast } : {}) });
  return new Response(body, { status, headers });
};

export function createItemsUi(ctx: RouteContext, items: ItemService) {
  /**
   * The user's language and time zone: Bitrix24's TIME_ZONE when the user has one, else the browser's
   * (the island sends it as X-Time-Zone with every htmx request; an unknown name falls back to UTC).
   */
  const viewFor = async (actor: Actor, request?: Request): Promise<ViewContext> => {
    const user = await ctx.store.users.find(actor.portalId, actor.userId);
    const lang = user?.lang ?? 'en';
    const browserZone = request?.headers.get('x-time-zone')?.slice(0, 64) || null;
    return { t: translator(lang), lang, dates: dateFormat(lang, user?.timeZone ?? browserZone), url: ctx.url, zoneFromBitrix: Boolean(user?.timeZone) };
  };

  /** Form fields (datetime-local in the user's zone) -> a draft, or per-field messages. */
  const readDraft = (form: URLSearchParams, v: ViewContext): { draft: Partial<ItemDraft>; values: ItemFormValues; errors: Record<string, string> } => {
    const values: ItemFormValues = {
      name: form.get('name') ?? '',
      notes: form.get('notes') ?? '',
      startsAt: form.get('starts_at') ?? '',
      endsAt: form.get('ends_at') ?? '',
      status: form.get('status') === 'archived' ? 'archived' : 'active',
    };
    const errors: Record<string, string> = {};
    const startsAt = parseLocalInput(values.startsAt, v.dates.zone);
    const endsAt = parseLocalInput(values.endsAt, v.dates.zone);
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
  };

  const fieldErrors = (e: unknown): Record<string, string> | null =>
    isAppError(e) && e.code === 'unprocessable' ? (e.details?.fields ?? {}) : null;

  const listState = (query: Record<string, string | undefined>): ListState => ({
    q: (query.q ?? '').slice(0, 200),
    status: isStatus(query.status) ? query.status : '',
  });

  const renderer: CabinetRenderer = {
    async renderPage({ actor, user, session }) {
      const v = await viewFor(actor);
      const state: ListState = { q: '', status: '' };
      const page = await items.list(actor, {});
      return CabinetPage({
        v,
        assets: ctx.pageAssets(true),
        user: { name: user.name, photoUrl: user.photoUrl },
        session,
        page: { items: page.items.map(toView), nextCursor: page.nextCursor },
        state,
      }) as string;
    },
  };

  const toastText = (v: ViewContext, key: MessageKey) => ({ kind: 'success' as const, message: v.t(key) });

  /**
   * The list's filter as the page shows it (the island sends the filter form as X-List-Filter with
   * every request), so that a change keeps the list true to it: a row that no longer matches leaves
   * the list, a new one that does not match is not added, and the toast says why.
   */
  const filterOf = (request: Request): ListState => listState(Object.fromEntries(new URLSearchParams(request.headers.get('x-list-filter') ?? '')));
  const matches = (item: Item, f: ListState) =>
    (!f.status || item.status === f.status) && (!f.q.trim() || foldForSearch(item.name).includes(foldForSearch(f.q.trim())));
  const hiddenNote = (v: ViewContext, key: MessageKey) => ({ kind: 'success' as const, message: v.t('hiddenByFilter', { message: v.t(key) }) });

  /** A changed row: itself, or (when the filter no longer shows it) its removal. */
  const rowReply = (item: Item, v: ViewContext, f: ListState, toastKey: MessageKey) => {
    if (matches(item, f)) return html(ItemRow({ item: toView(item), v }) as string, 200, toastText(v, toastKey));
    const res = html('', 200, hiddenNote(v, toastKey));
    res.headers.set('hx-reswap', 'delete');
    return res;
  };

  /**
   * The item is gone (deleted in another tab; or never this user's, which looks the same): still a 404,
   * but one that removes its row (the island swaps a 404 that says HX-Reswap: delete) instead of
   * leaving a ghost row whose every button fails.
   */
  const orGone = async (v: ViewContext, act: () => Promise<Response>): Promise<Response> => {
    try {
      return await act();
    } catch (e) {
      if (!(isAppError(e) && e.code === 'not_found')) throw e;
      const res = html('', 404, { kind: 'error', message: v.t('errorNotFound') });
      res.headers.set('hx-reswap', 'delete');
      return res;
    }
  };

  const routes = new Elysia({ name: 'items-ui', seed: ctx })
    .use(sessionGuard({ sessions: ctx.sessions, appOrigin: ctx.appOrigin }))
    .get('/ui/items', async ({ actor, query, request }) => {
      const a = requireActor(actor);
      const v = await viewFor(a, request);
      const state = listState(query);
      const page = await items.list(a, { q: state.q, status: state.status || undefined, cursor: query.cursor || undefined });
      const rows = ItemPage({ items: page.items.map(toView), nextCursor: page.nextCursor, state, v }) as string;
      // A next page is appended in place of "load more"; a new search replaces the list, empty state included.
      return html(query.cursor ? rows : (EmptyState({ v, searching: Boolean(state.q || state.status) }) as string) + rows);
    })
    .get('/ui/items/new', async ({ actor, request }) => {
      const v = await viewFor(requireActor(actor), request);
      const res = html(CreateItemForm({ values: emptyFormValues, errors: {}, draftId: newItemId(), v }) as string);
      // After the swap, so that the dialog opens on the form and can focus its first field.
      setHxTrigger(res.headers, { openDialog: true }, 'hx-trigger-after-settle');
      return res;
    })
    .post(
      '/ui/items',
      async ({ actor, request }) => {
        const a = requireActor(actor);
        const v = await viewFor(a, request);
        const form = await readForm(request);
        const { draft, values, errors } = readDraft(form, v);
        const proposed = form.get('draft_id');
        const draftId = isItemId(proposed) ? proposed : newItemId();
        const again = (errs: Record<string, string>) => html(CreateItemForm({ values, errors: errs, draftId, v }) as string, 422);
        if (Object.keys(errors).length) return again(errors);
        try {
          const item = await items.create(a, { ...draft, name: draft.name }, draftId);
          // The dialog closes; a new row that the list's filter would not show is not added.
          if (!matches(item, filterOf(request))) return html('', 200, hiddenNote(v, 'created'), { closeDialog: true });
          // The new row goes to the top of the list out of band.
          const row = `<ul hx-swap-oob="afterbegin:#item-list">${ItemRow({ item: toView(item), v }) as string}</ul>`;
          const res = html(row, 200, toastText(v, 'created'), { closeDialog: true });
          // Only the server knows the new row's id: the page focuses (and so shows) it once it is in place.
          setHxTrigger(res.headers, { focusRow: `item-${item.id}` }, 'hx-trigger-after-settle');
          return res;
        } catch (e) {
          const errs = fieldErrors(e);
          if (errs) return again(errs);
          throw e;
        }
      },
      { parse: 'none' },
    )
    .get('/ui/items/:id', async ({ actor, params, request }) => {
      const a = requireActor(actor);
      const v = await viewFor(a, request);
      return orGone(v, async () => html(ItemRow({ item: toView(await items.find(a, params.id)), v }) as string));
    })
    .get('/ui/items/:id/edit', async ({ actor, params, request }) => {
      const a = requireActor(actor);
      const v = await viewFor(a, request);
      return orGone(v, async () => {
        const item = toView(await items.find(a, params.id));
        return html(EditItemForm({ item, values: formValuesOf(item, v), errors: {}, v }) as string);
      });
    })
    .put(
      '/ui/items/:id',
      async ({ actor, params, request }) => {
        const a = requireActor(actor);
        const v = await viewFor(a, request);
        const form = await readForm(request);
        const { draft, values, errors } = readDraft(form, v);
        return orGone(v, async () => {
          const stored = await items.find(a, params.id);
          const current = toView(stored);
          // The form edits only `notes`; every other key of `data` (set through the API) is kept.
          draft.data = withNotes(stored.data, values.notes);
          const version = Number(form.get('version'));
          if (Object.keys(errors).length) return html(EditItemForm({ item: current, values, errors, v }) as string, 422);
          try {
            return rowReply(await items.update(a, params.id, version, draft), v, filterOf(request), 'saved');
          } catch (e) {
            const errs = fieldErrors(e);
            if (errs) return html(EditItemForm({ item: current, values, errors: errs, v }) as string, 422);
            if (isAppError(e) && e.code === 'conflict') {
              // Someone saved first: keep what this user typed, show the stored values beside it, and
              // take the new version, so that saving again is a deliberate overwrite.
              const latest = toView(e.details!.current as Item);
              return html(EditItemForm({ item: latest, values, errors: {}, conflict: formValuesOf(latest, v), v }) as string, 409);
            }
            throw e;
          }
        });
      },
      { parse: 'none' },
    )
    .post(
      '/ui/items/:id/:action',
      async ({ actor, params, request }) => {
        const a = requireActor(actor);
        const v = await viewFor(a, request);
        const { action } = params;
        if (action !== 'archive' && action !== 'restore' && action !== 'calendar') throw new AppError('not_found', 'Nothing here.');
        const filter = filterOf(request);
        return orGone(v, async () => {
          if (action === 'calendar') {
            try {
              return rowReply(await items.linkCalendar(a, params.id), v, filter, 'calendarAdded');
            } catch (e) {
              if (!fieldErrors(e)) throw e;
              // The row was stale (its start removed elsewhere): show the current row and say why.
              return html(ItemRow({ item: toView(await items.find(a, params.id)), v }) as string, 200, { kind: 'error', message: v.t('calendarNeedsStart') });
            }
          }
          const version = Number((await readForm(request)).get('version'));
          try {
            const item = await items.update(a, params.id, version, { status: action === 'archive' ? 'archived' : 'active' });
            return rowReply(item, v, filter, action === 'archive' ? 'archivedToast' : 'restoredToast');
          } catch (e) {
            if (!(isAppError(e) && e.code === 'conflict')) throw e;
            // Someone else changed it: show the current row and say so.
            return html(ItemRow({ item: toView(e.details!.current as Item), v }) as string, 200, { kind: 'error', message: v.t('conflict') });
          }
        });
      },
      { parse: 'none' },
    )
    .delete('/ui/items/:id', async ({ actor, params, request }) => {
      const a = requireActor(actor);
      const v = await viewFor(a, request);
      return orGone(v, async () => {
        await items.remove(a, params.id);
        return html('', 200, toastText(v, 'deleted'));
      });
    });

  return { renderer, routes };
}
