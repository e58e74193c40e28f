import type { ErrorCode } from '../src/domain/errors.ts';
import type { MessageKey } from './i18n.ts';
import { EmptyState, ItemPage, type ItemPageProps } from './item-list.tsx';
import { Layout, type PageAssets } from './layout.tsx';
import type { ListState, ViewContext } from './view-model.ts';

export interface CabinetUser {
  name: string;
  photoUrl: string | null;
  /** Shows the way to the admin panel (the panel itself checks again). */
  isAdmin?: boolean;
}

export interface CabinetPageProps {
  v: ViewContext;
  assets: PageAssets;
  user: CabinetUser;
  /** The app session for htmx (Authorization header) and when it ends. */
  session: { token: string; expiresAt: number };
  page: Omit<ItemPageProps, 'v' | 'state'>;
  state: ListState;
}

/**
 * htmx settings: no eval (CSP), no injected indicator styles (our stylesheet has them), and form
 * errors (422) and conflicts (409) are swapped in like successes so the user sees them in place.
 */
const HTMX_CONFIG = JSON.stringify({
  allowEval: false,
  allowScriptTags: false,
  includeIndicatorStyles: false,
  selfRequestsOnly: true,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '422', swap: true, error: false },
    { code: '409', swap: true, error: false },
    { code: '[45]..', swap: false, error: true },
  ],
});

/** Every error code's toast text: the type makes a new code impossible to forget. */
const ERROR_TEXTS: Record<ErrorCode, MessageKey> = {
  invalid: 'errorInvalid',
  unauthorized: 'sessionExpired',
  not_installed: 'appNotInstalled',
  forbidden: 'errorForbidden',
  not_found: 'errorNotFound',
  conflict: 'errorConflict',
  payload_too_large: 'errorPayloadTooLarge',
  unsupported_media_type: 'errorUnsupportedMediaType',
  unprocessable: 'errorUnprocessable',
  rate_limited: 'errorRateLimited',
  payment_required: 'subscriptionExpired',
  upstream: 'errorUpstream',
  unavailable: 'errorUpstream',
  internal: 'errorGeneric',
};

/** The personal cabinet: the page Bitrix24 frames for a verified user. */
export function CabinetPage({ v, assets, user, session, page, state }: CabinetPageProps) {
  const { t, url } = v;
  const bodyAttrs = {
    'hx-headers': JSON.stringify({ Authorization: `Bearer ${session.token}` }),
    'hx-indicator': '#progress',
    'data-session-url': url('/api/session'),
    'data-export-url': url('/api/export'),
    'data-lang': v.lang,
    // Without a Bitrix24 time zone the first render is in UTC; the island reloads the list in the browser's.
    'data-zone': v.zoneFromBitrix ? 'bitrix' : v.dates.zone,
    'data-text-error': t('errorGeneric'),
    'data-text-expired': t('sessionExpired'),
    // Error toasts by code (see island.js): the server's messages are English.
    ...Object.fromEntries(Object.entries(ERROR_TEXTS).map(([code, key]) => [`data-error-${code.replace(/_/g, '-')}`, t(key)])),
  };
  return (
    <Layout title={t('appName')} lang={v.lang} assets={assets} bodyAttrs={bodyAttrs} head={<meta name="htmx-config" content={HTMX_CONFIG} />}>
      <>
        <div id="progress" class="progress" role="progressbar" aria-label={t('loading')}>
          <div class="progress__bar"></div>
        </div>
        <header class="topbar">
          {user.photoUrl ? <img class="avatar" src={user.photoUrl} alt="" width="36" height="36" /> : <span class="avatar avatar--blank" aria-hidden="true"></span>}
          <div class="topbar__titles">
            <h1 class="topbar__title" safe>
              {t('appName')}
            </h1>
            <p class="topbar__greeting" x-data="greeting" data-greeting={t('greeting', { name: '{name}' })} x-text="text" safe>
              {t('greeting', { name: user.name })}
            </p>
          </div>
          <div class="topbar__actions">
            <button type="button" class="btn btn--link" data-export safe>
              {t('export')}
            </button>
            {user.isAdmin ? (
              <button type="button" class="btn btn--link" hx-get={url('/ui/admin')} hx-target="#dialog-body" data-admin-open safe>
                {t('adminOpen')}
              </button>
            ) : (
              ''
            )}
            <button type="button" class="btn btn--primary" hx-get={url('/ui/items/new')} hx-target="#dialog-body" safe>
              {t('newItem')}
            </button>
          </div>
        </header>
        <main class="page">
          <form id="filters" class="toolbar" role="search" hx-get={url('/ui/items')} hx-target="#item-list" hx-trigger="input changed delay:300ms from:#q, change from:#status, submit">
            <div class="toolbar__search">
              <label for="q" safe>
                {t('search')}
              </label>
              <input id="q" name="q" type="search" value={state.q} placeholder={t('searchPlaceholder')} autocomplete="off" />
            </div>
            <div class="toolbar__filter">
              <label for="status" safe>
                {t('statusFilter')}
              </label>
              <select id="status" name="status">
                <option value="" selected={state.status === ''} safe>
                  {t('filterAll')}
                </option>
                <option value="active" selected={state.status === 'active'} safe>
                  {t('filterActive')}
                </option>
                <option value="archived" selected={state.status === 'archived'} safe>
                  {t('filterArchived')}
                </option>
              </select>
            </div>
          </form>
          <ul id="item-list" class="items" aria-live="polite">
            <EmptyState v={v} searching={Boolean(state.q || state.status)} />
            <ItemPage items={page.items} nextCursor={page.nextCursor} state={state} v={v} />
          </ul>
          {/* The frame is as tall as the list, so the header's button may be far above the user's view.
              Shown (by CSS) only under a list with rows. */}
          <div class="list-footer">
            <button type="button" class="btn" hx-get={url('/ui/items/new')} hx-target="#dialog-body" safe>
              {t('addAnother')}
            </button>
          </div>
        </main>
        <dialog id="dialog" class="dialog" aria-labelledby="dialog-title">
          <button type="button" class="dialog__close" data-close-dialog aria-label={t('close')}>
            ×
          </button>
          <div id="dialog-body"></div>
        </dialog>
        <div id="toasts" class="toasts" role="status" aria-live="polite"></div>
      </>
    </Layout>
  );
}
