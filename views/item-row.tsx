import type { ItemView, ViewContext } from './view-model.ts';

/**
 * One item in the list. The same component renders inside the full page and alone as the htmx reply
 * to every change, so the row never looks different after a swap.
 */
export function ItemRow({ item, v }: { item: ItemView; v: ViewContext }) {
  const { t, dates, url } = v;
  const rowUrl = url(`/ui/items/${item.id}`);
  const version = JSON.stringify({ version: String(item.version) });
  return (
    <li id={`item-${item.id}`} class={`item-row item-row--${item.status}`} tabindex="-1">
      <div class="item-row__main">
        <h2 class="item-row__name" safe>
          {item.name}
        </h2>
        {item.notes ? (
          <p class="item-row__notes" safe>
            {item.notes}
          </p>
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
          {item.calendarEventId ? (
            <span class="badge badge--calendar" safe>
              {t('inCalendar')}
            </span>
          ) : (
            ''
          )}
          <span class="muted" safe>
            {t('updated', { date: dates.dateTime(item.updatedAt) })}
          </span>
        </p>
      </div>
      <div class="item-row__actions" role="group" aria-label={t('actions', { name: item.name })}>
        <button type="button" class="btn btn--small" hx-get={`${rowUrl}/edit`} hx-target={`#item-${item.id}`} hx-swap="outerHTML" safe>
          {t('edit')}
        </button>
        {item.startsAt !== null && !item.calendarEventId ? (
          <button type="button" class="btn btn--small btn--blue" hx-post={`${rowUrl}/calendar`} hx-target={`#item-${item.id}`} hx-swap="outerHTML" safe>
            {t('addToCalendar')}
          </button>
        ) : (
          ''
        )}
        <button
          type="button"
          class="btn btn--small"
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
          class="btn btn--small btn--danger"
          hx-delete={rowUrl}
          hx-confirm={t('confirmDelete', { name: item.name })}
          hx-target={`#item-${item.id}`}
          hx-swap="delete"
          safe
        >
          {t('delete')}
        </button>
      </div>
    </li>
  );
}
