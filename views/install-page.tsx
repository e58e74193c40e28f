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
