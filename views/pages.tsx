/**
 * The pages around the cabinet: the installer page, the page for opening the app outside Bitrix24,
 * and the error page. Each takes its texts already translated.
 */
import type { Translate } from './i18n.ts';
import { Layout, type PageAssets } from './layout.tsx';

export interface InstallPageProps {
  t: Translate;
  lang: string;
  assets: PageAssets;
  isAdmin: boolean;
}

/**
 * The installer Bitrix24 shows in the frame while the app is not installed. Setup happens on the
 * server before this renders; the island then calls BX24.installFinish(), and the portal reloads
 * into the app. Every value here is escaped; nothing from the request is echoed.
 */
export function InstallPage({ t, lang, assets, isAdmin }: InstallPageProps) {
  return (
    <Layout title={t('installTitle')} lang={lang} assets={assets} bodyAttrs={{ 'data-install': isAdmin ? 'finish' : 'denied' }}>
      <main class="page page--narrow">
        <section class="card" aria-live="polite">
          <h1 class="card__title" safe>
            {t('installTitle')}
          </h1>
          {isAdmin ? (
            <p id="install-status" class="install-status" data-done={t('installDone')}>
              <span class="spinner" aria-hidden="true"></span> <span safe>{t('installBody')}</span>
            </p>
          ) : (
            <p role="alert" safe>
              {t('installNotAdmin')}
            </p>
          )}
        </section>
      </main>
    </Layout>
  );
}

export interface OutsidePageProps {
  t: Translate;
  lang: string;
  assets: PageAssets;
  /** Where the OAuth sign-in starts (BASE_PATH/auth/bitrix24). */
  signInAction: string;
}

/** Shown when the app is opened directly, outside a Bitrix24 frame and without a session. */
export function OutsidePage({ t, lang, assets, signInAction }: OutsidePageProps) {
  return (
    <Layout title={t('appName')} lang={lang} assets={assets}>
      <main class="page page--narrow">
        <section class="card">
          <h1 class="card__title" safe>
            {t('openFromBitrix')}
          </h1>
          <p safe>{t('openFromBitrixBody')}</p>
          <form method="get" action={signInAction} class="signin">
            <div class="field">
              <label for="domain" safe>
                {t('portalAddress')}
              </label>
              <input id="domain" name="domain" type="text" required autocomplete="url" placeholder={t('portalAddressHint')} />
            </div>
            <button type="submit" class="btn btn--primary" safe>
              {t('signIn')}
            </button>
          </form>
        </section>
      </main>
    </Layout>
  );
}

export interface ErrorPageProps {
  lang: string;
  status: number;
  title: string;
  message: string;
  requestId?: string;
  /** "Request id" in the page's language. */
  requestIdLabel: string;
  assets: PageAssets;
  /** A way out, opened in the portal's window (the Market, for a lapsed subscription). */
  action?: { href: string; label: string };
}

/** A styled page for failed navigations: a plain message, never a stack trace. */
export function ErrorPage({ lang, status, title, message, requestId, requestIdLabel, assets, action }: ErrorPageProps) {
  return (
    <Layout title={title} lang={lang} assets={assets}>
      <main class="page page--narrow">
        <section class="card error-card" role="alert">
          <p class="error-card__status">{status}</p>
          <h1 class="card__title" safe>
            {title}
          </h1>
          <p safe>{message}</p>
          {action ? (
            <p>
              <a class="btn btn--primary" href={action.href} target="_top" rel="noopener" safe>
                {action.label}
              </a>
            </p>
          ) : (
            ''
          )}
          {requestId ? (
            <p class="muted">
              <span safe>{requestIdLabel}</span>: <code safe>{requestId}</code>
            </p>
          ) : (
            ''
          )}
        </section>
      </main>
    </Layout>
  );
}
