import type { Translate } from './i18n.ts';
import { Layout, type PageAssets } from './layout.tsx';

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
