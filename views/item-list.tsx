import { ItemRow } from './item-row.tsx';
import type { ItemView, ListState, ViewContext } from './view-model.ts';

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
