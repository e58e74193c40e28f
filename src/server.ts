/**
 * Runs an App on Bun.serve and owns its lifecycle: graceful shutdown stops accepting new
 * connections, lets in-flight requests finish (bounded), then closes the store.
 */
import type { Server } from 'bun';
import type { App } from './app.ts';
import type { Logger } from './log.ts';
import type { Store } from './store/store.ts';

export interface RunningServer {
  server: Server<undefined>;
  app: App;
  url: string;
  /** Idempotent; resolves once in-flight requests are done and the store is closed. */
  shutdown(reason?: string): Promise<void>;
}

/** Longest a request may go without an answer (Bun's maximum is 255). */
export const REQUEST_IDLE_TIMEOUT_SECONDS = 120;

export function startServer(opts: {
  app: (peerIp: (r: Request) => string | undefined) => App;
  store: Store;
  logger: Logger;
  host: string;
  port: number;
  drainTimeoutMs?: number;
  /** Other processes listen on the same address (`serve --workers N`); the kernel spreads connections. */
  reusePort?: boolean;
}): RunningServer {
  let server: Server<undefined>;
  const app = opts.app((request) => server.requestIP(request)?.address);
  server = Bun.serve({
    hostname: opts.host,
    port: opts.port,
    reusePort: opts.reusePort ?? false,
    // Above any body the app accepts (the API caps JSON at 64 KB itself), below memory trouble.
    maxRequestBodySize: 1024 * 1024,
    // Bun resets a request that has not answered within idleTimeout (10 s by default), while the app
    // may legitimately hold one longer: a REST call waits for its slot in the portal's bucket (2/s,
    // shared by every instance), so 60 concurrent calendar links on one portal wait ~30 s. The client
    // got ECONNRESET for work the server then finished (tests/cabinet/three-instances.test.ts).
    idleTimeout: REQUEST_IDLE_TIMEOUT_SECONDS,
    // Never Bun's development error page (source paths, lines, a stack) whatever NODE_ENV says.
    development: false,
    fetch: (request) => app.handle(request),
    // Last line of defence for anything thrown before the app's own handlers: bland, with an id.
    error: (error) => {
      const requestId = crypto.randomUUID();
      opts.logger.error('request failed before the app', { request_id: requestId, error });
      return new Response(`Internal error (request id ${requestId})`, {
        status: 500,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'x-request-id': requestId, 'cache-control': 'no-store' },
      });
    },
  });
  // The event loop's lag is measured while the server runs (an unref'd timer), for /metrics.
  const stopLagProbe = app.metrics.watchEventLoop();
  let closing: Promise<void> | null = null;
  const shutdown = (reason = 'shutdown') =>
    (closing ??= (async () => {
      stopLagProbe();
      opts.logger.info('shutting down', { reason });
      const drained = server.stop(false);
      const timeout = new Promise<void>((r) => setTimeout(r, opts.drainTimeoutMs ?? 10_000).unref());
      await Promise.race([drained, timeout]);
      server.stop(true);
      // Background work in flight (a calendar write) finishes before the store closes; a job it
      // could not finish stays queued and is claimed again after the restart.
      await Promise.race([app.idle(), new Promise<void>((r) => setTimeout(r, opts.drainTimeoutMs ?? 10_000).unref())]);
      await opts.store.close();
      opts.logger.info('stopped');
    })());
  return { server, app, url: server.url.toString().replace(/\/$/, ''), shutdown };
}
