import { Layout, type PageAssets } from './layout.tsx';

export interface ErrorPageProps {
  lang: string;
  status: number;
  title: string;
  message: string;
  requestId?: string;
  /** "Request id" in the page's language. */
  requestIdLabel: string;
  assets: PageAssets;
}

/** A styled page for failed navigations: a plain message, never a stack trace. */
export function ErrorPage({ lang, status, title, message, requestId, requestIdLabel, assets }: ErrorPageProps) {
  return (
    <Layout title={title} lang={lang} assets={assets}>
      <main class="page page--narrow">
        <section class="card error-card" role="alert">
          <p class="error-card__status">{status}</p>
          <h1 class="card__title" safe>
            {title}
          </h1>
          <p safe>{message}</p>
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
