/** The cabinet's list: a page of rows (with "load more"), the empty state, and one row with its actions. */
import { calendarEventPath, type ItemView, type ListState, type ViewContext } from './view-model.ts';

export interface ItemPageProps {
  items: ItemView[];
  nextCursor: string | null;
  state: ListState;
  v: ViewContext;
}

/** The "load more" control: asks for the next page and is replaced by it (rows + a new control). */
function LoadMore({ nextCursor, state, v }: Omit<ItemPageProps, 'items'>) {
  if (!nextCursor) return '';
  const qs = new URLSearchParams({ cursor: nextCursor, q: state.q, status: state.status }).toString();
  return (
    <li id="load-more" class="load-more">
      <button type="button" class="btn" hx-get={v.url(`/ui/items?${qs}`)} hx-target="#load-more" hx-swap="outerHTML" safe>
        {v.t('loadMore')}
      </button>
    </li>
  );
}

/** One page of rows: the initial list, a search result, or the next page after "load more". */
export function ItemPage({ items, nextCursor, state, v }: ItemPageProps) {
  return (
    <>
      {items.map((item) => (
        <ItemRow item={item} v={v} />
      ))}
      <LoadMore nextCursor={nextCursor} state={state} v={v} />
    </>
  );
}

/** Shown by CSS only while the list has no rows (see .items:has(.item-row)). */
export function EmptyState({ v, searching }: { v: ViewContext; searching: boolean }) {
  return (
    <li class="empty-state">
      <p class="empty-state__title" safe>
        {searching ? v.t('emptySearch') : v.t('emptyTitle')}
      </p>
      {searching ? '' : <p class="muted" safe>{v.t('emptyBody')}</p>}
    </li>
  );
}

/**
 * Where the item's calendar event stands. While it is in the calendar (synced, or being updated) the
 * badge is a link that opens the event in Bitrix24: the island opens `data-open-path` with
 * BX24.openPath (the portal's slider) and leaves the plain link (a new tab on the portal) when the
 * frame cannot. A failed sync is no link: the row offers the retry instead.
 */
function CalendarBadge({ item, eventId, v }: { item: ItemView; eventId: string; v: ViewContext }) {
  const { t } = v;
  const failed = item.calendarSync === 'failed';
  const text = t(failed ? 'calendarFailed' : item.calendarSync === 'pending' ? 'calendarPending' : 'inCalendar');
  if (failed || !v.portalOrigin) {
    return (
      <span class={`badge badge--calendar${failed ? ' badge--error' : ''}`} safe>
        {text}
      </span>
    );
  }
  const path = calendarEventPath(item.ownerId, eventId);
  return (
    <a
      class="badge badge--calendar badge--link"
      href={`${v.portalOrigin}${path}`}
      target="_blank"
      rel="noopener"
      data-open-path={path}
      aria-label={t('calendarOpenLabel', { state: text })}
      title={t('calendarOpenTitle')}
      safe
    >
      {text}
    </a>
  );
}

/**
 * One item in the list. The same component renders inside the full page and alone as the htmx reply
 * to every change, so the row never looks different after a swap.
 */
export function ItemRow({ item, v }: { item: ItemView; v: ViewContext }) {
  const { t, dates, url } = v;
  const rowUrl = url(`/ui/items/${item.id}`);
  const version = JSON.stringify({ version: String(item.version) });
  return (
    <li
      id={`item-${item.id}`}
      class={`item-row item-row--${item.status}`}
      tabindex="-1"
      // While its calendar write is pending the row looks again a little later, so the badge turns
      // "in calendar" (or "not updated") without a reload; a settled row does not poll.
      {...(item.calendarSync === 'pending' ? { 'hx-get': rowUrl, 'hx-trigger': 'load delay:3s', 'hx-swap': 'outerHTML' } : {})}
    >
      <div class="item-row__main">
        <h2 class="item-row__name" safe>
          {item.name}
        </h2>
        {item.notes ? (
          <>
            <p class="item-row__notes" id={`notes-${item.id}`} safe>
              {item.notes}
            </p>
            {/* Shown by the island only when the clamped notes overflow. */}
            <button type="button" class="link-more" data-more={t('showMore')} data-less={t('showLess')} aria-controls={`notes-${item.id}`} aria-expanded="false" hidden safe>
              {t('showMore')}
            </button>
          </>
        ) : (
          ''
        )}
        <p class="item-row__meta">
          <span class={`badge badge--${item.status}`} safe>
            {t(item.status)}
          </span>
          {item.startsAt !== null ? (
            <time datetime={new Date(item.startsAt * 1000).toISOString()} safe>
              {`${dates.range(item.startsAt, item.endsAt)} (${dates.zoneLabel})`}
            </time>
          ) : (
            ''
          )}
          {item.calendarEventId ? <CalendarBadge item={item} eventId={item.calendarEventId} v={v} /> : ''}
          {item.calendarEventId && item.calendarSync === 'failed' ? (
            <button type="button" class="btn btn--small btn--link" hx-post={`${rowUrl}/calendar`} hx-target={`#item-${item.id}`} hx-swap="outerHTML" safe>
              {t('calendarRetry')}
            </button>
          ) : (
            ''
          )}
          <span class="muted" safe>
            {t('updated', { date: dates.dateTime(item.updatedAt) })}
          </span>
        </p>
      </div>
      <div class="item-row__actions">
        <button type="button" class="btn btn--small" hx-get={`${rowUrl}/edit`} hx-target={`#item-${item.id}`} hx-swap="outerHTML" safe>
          {t('edit')}
        </button>
        {/* The other actions in a compact menu, as Bitrix24's own lists keep them. */}
        <details class="row-menu">
          <summary class="row-menu__toggle" aria-label={t('actions', { name: item.name })} title={t('actions', { name: item.name })}>
            <span aria-hidden="true">⋯</span>
          </summary>
          <div class="row-menu__list">
            {item.startsAt !== null && !item.calendarEventId ? (
              <button type="button" class="row-menu__item" hx-post={`${rowUrl}/calendar`} hx-target={`#item-${item.id}`} hx-swap="outerHTML" safe>
                {t('addToCalendar')}
              </button>
            ) : (
              ''
            )}
            <button
              type="button"
              class="row-menu__item"
              hx-post={`${rowUrl}/${item.status === 'active' ? 'archive' : 'restore'}`}
              hx-vals={version}
              hx-target={`#item-${item.id}`}
              hx-swap="outerHTML"
              safe
            >
              {t(item.status === 'active' ? 'archive' : 'restore')}
            </button>
            <button
              type="button"
              class="row-menu__item row-menu__item--danger"
              hx-delete={rowUrl}
              hx-confirm={t(item.calendarEventId ? 'confirmDeleteLinked' : 'confirmDelete', { name: item.name })}
              hx-target={`#item-${item.id}`}
              hx-swap="delete"
              safe
            >
              {t('delete')}
            </button>
          </div>
        </details>
      </div>
    </li>
  );
}
