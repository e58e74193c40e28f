import { Layout, type PageAssets } from './layout.tsx';

export interface ErrorPageProps {
  status: number;
  title: string;
  message: string;
  requestId?: string;
  assets: PageAssets;
}

/** A styled page for failed navigations: a plain message, never a stack trace. */
export function ErrorPage({ status, title, message, requestId, assets }: ErrorPageProps) {
  return (
    <Layout title={title} lang="en" assets={assets}>
      <main class="page page--narrow">
        <section class="card error-card" role="alert">
          <p class="error-card__status">{status}</p>
          <h1 class="card__title" safe>
            {title}
          </h1>
          <p safe>{message}</p>
          {requestId ? (
            <p class="muted">
              Request id: <code safe>{requestId}</code>
            </p>
          ) : (
            ''
          )}
        </section>
      </main>
    </Layout>
  );
}
