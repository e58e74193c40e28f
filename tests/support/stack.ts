/**
 * The whole system for integration tests: the portal emulator and the app, each a real HTTP server
 * on loopback, the app on a real database: a SQLite file, or with `TEST_STORE=postgres` a fresh schema
 * on the local PostgreSQL server (dropped at stop; see test-database.ts). The app is addressed as `localhost` and the portals as
 * `127.0.0.1`, so in a browser they are different sites, as in production.
 */
import { clockFromSeconds } from '../../src/clock.ts';
import { createApp, type App } from '../../src/app.ts';
import { createTokenCipher } from '../../src/auth/secrets.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import type { Store } from '../../src/store/store.ts';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';
import { testConfig, TEST_APP_SECRET } from './config.ts';
import { emulatorClient, type EmulatorClient, type LaunchParams } from './emulator-client.ts';
import { freshTestDatabase, type Row, type TestBackend, type TestDatabase } from './test-database.ts';
import { tempDir } from './temp.ts';

export interface Stack {
  appUrl: string;
  clientId: string;
  clientSecret: string;
  emulator: Emulator;
  emu: EmulatorClient;
  store: Store;
  /** The backend the app runs on (TEST_STORE, or StackOptions.backend). */
  backend: TestBackend;
  /** The app's database: its DATABASE_URL, and direct reads for assertions. */
  database: TestDatabase;
  /**
   * Rows straight from the app's database, on either backend: `?` placeholders, plain objects with
   * numbers as numbers and booleans as 0/1. Write SQL both SQLite and PostgreSQL accept.
   */
  sql<T = Row>(text: string, params?: unknown[]): Promise<T[]>;
  /** The first row of `sql`, or null. */
  sqlOne<T = Row>(text: string, params?: unknown[]): Promise<T | null>;
  /** Every line the app logged (empty with `keepLog: false`). */
  logLines: string[];
  server: RunningServer;
  /** POSTs a launch form to the app as the portal's hidden form would. */
  launch(params: Pick<LaunchParams, 'url' | 'query' | 'form'>, overrides?: { form?: Record<string, string>; query?: Record<string, string> }): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * A port for a server that must be known before it listens (the emulator needs the app's URL first).
 * Picked below Linux's ephemeral range (32768+): the kernel hands those to outgoing connections and to
 * `port: 0` listeners at any moment, so a port probed there can be taken again before the app binds it
 * (seen in CI as EADDRINUSE). Probed before it is handed out.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 15_000 + Math.floor(Math.random() * 17_000);
    try {
      const probe = Bun.serve({ hostname: '127.0.0.1', port, fetch: () => new Response() });
      await probe.stop(true);
      return port;
    } catch {
      // taken: try another
    }
  }
  throw new Error('no free port below the ephemeral range');
}

export function sessionTokenOf(html: string): string | null {
  const m = /Bearer ([A-Za-z0-9_-]{20,128})/.exec(html);
  return m ? m[1]! : null;
}

export interface StackOptions {
  emulator?: Partial<EmulatorOptions>;
  /** Overrides of the app's environment (LOG_LEVEL defaults to debug). */
  env?: Record<string, string>;
  /** Keep the log lines in memory (tests assert on them); benchmarks build the lines and drop them. */
  keepLog?: boolean;
  /** The backend; default the environment's choice (TEST_STORE / TEST_DATABASE_URL, else SQLite). */
  backend?: TestBackend;
  /** The app's SQLite file (SQLite only); default a fresh one in a temporary folder. */
  dbPath?: string;
  /** The app's clock (unix seconds) where it takes one. */
  now?: () => number;
  /** OAuth server origins allow-listed ahead of the emulator's (to test servers that fail). */
  oauthServersBefore?: string[];
}

/**
 * An app's identity on loopback (a free port, `localhost`, fresh credentials) and an emulator that knows
 * the app: what every full-stack test starts from, in process (startStack) or as a child (child-server.ts).
 */
export async function startEmulatorForApp(emulatorOptions: Partial<EmulatorOptions> = {}, dirPrefix = 'b24app-stack-') {
  const dir = tempDir(dirPrefix);
  const port = await freePort();
  const appUrl = `http://localhost:${port}`;
  const clientId = `local.${crypto.randomUUID().replace(/-/g, '').slice(0, 14)}.12345678`;
  const clientSecret = `secret-${crypto.randomUUID()}`;
  const emulator = await startEmulator({
    port: 0,
    apps: [{ client_id: clientId, client_secret: clientSecret, app_url: appUrl, events_url: `${appUrl}/events` }],
    ...emulatorOptions,
  });
  return { dir, port, appUrl, clientId, clientSecret, emulator };
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const { dir, port, appUrl, clientId, clientSecret, emulator } = await startEmulatorForApp(opts.emulator);
  const database = await freshTestDatabase({ backend: opts.backend, sqlitePath: opts.dbPath ?? dir.file('app.db') });
  const config = testConfig({
    PUBLIC_URL: appUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    BITRIX24_CLIENT_ID: clientId,
    BITRIX24_CLIENT_SECRET: clientSecret,
    BITRIX24_OAUTH_SERVERS: [...(opts.oauthServersBefore ?? []), emulator.url].join(','),
    BX24_SDK_URL: `${emulator.url}/api/v1/`,
    DATABASE_URL: database.url,
    LOG_LEVEL: 'debug',
    // Calendar updates written at once (tests that are about the delay set it themselves).
    CALENDAR_WRITE_DELAY_SECONDS: '0',
    ...opts.env,
  });
  // The pool as configured when the test sets DATABASE_POOL_MAX (the bench), else a small one: many
  // stacks may be open at once on one server. Tokens sealed with the app's APP_SECRET, as serve does.
  // One clock for the app and its store (a moved `now` moves both, as in production where both read the system's).
  const clock = opts.now && clockFromSeconds(opts.now);
  const store = await database.open({
    poolMax: opts.env?.DATABASE_POOL_MAX ? config.databasePoolMax : undefined,
    cipher: createTokenCipher(config.appSecret),
    clock,
  });
  const logLines: string[] = [];
  const keep = opts.keepLog ?? true;
  const logger: Logger = createLogger(config.logLevel, { write: (line) => keep && logLines.push(line), format: config.logFormat });
  const server = startServer({ app: (peer) => createApp({ config, store, logger, clock }, peer), store, logger, host: '127.0.0.1', port });
  return {
    appUrl,
    clientId,
    clientSecret,
    emulator,
    emu: emulatorClient(emulator.url),
    store,
    backend: database.backend,
    database,
    sql: (text, params) => database.sql(text, params),
    sqlOne: (text, params) => database.one(text, params),
    logLines,
    server,
    launch(params, overrides = {}) {
      const url = new URL(appUrl + '/');
      for (const [k, v] of Object.entries({ ...params.query, ...overrides.query })) url.searchParams.set(k, v);
      return fetch(url, { method: 'POST', body: new URLSearchParams({ ...params.form, ...overrides.form }) });
    },
    async stop() {
      await server.shutdown('test');
      await emulator.stop();
      await database.drop();
      dir.cleanup();
    },
  };
}

/**
 * Another instance of the app over the stack's database (either backend): its own Store, its own
 * in-process caches and limiters, as a second `serve` process would have; `peerIp` is the address its
 * requests come from. Handled in process (`app.handle`); close it before the stack stops.
 */
export async function anotherInstance(s: Stack, peerIp?: string, now?: () => number): Promise<{ app: App; close(): Promise<void> }> {
  const clock = now && clockFromSeconds(now);
  const store = await s.database.open({ cipher: createTokenCipher(TEST_APP_SECRET), clock });
  const config = testConfig({
    PUBLIC_URL: s.appUrl,
    BITRIX24_CLIENT_ID: s.clientId,
    BITRIX24_CLIENT_SECRET: s.clientSecret,
    BITRIX24_OAUTH_SERVERS: s.emulator.url,
    BX24_SDK_URL: `${s.emulator.url}/api/v1/`,
    DATABASE_URL: s.database.url,
    LOG_LEVEL: 'error',
  });
  const app = createApp({ config, store, logger: createLogger('error', { write: () => undefined }), clock }, peerIp === undefined ? undefined : () => peerIp);
  return { app, close: () => store.close() };
}

