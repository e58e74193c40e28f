/** `b24app serve`: validate the environment, open the store, check the key, listen, stop gracefully. */
import { createApp } from '../app.ts';
import { createTokenCipher } from '../auth/secrets.ts';
import { ConfigError, configSummary, loadConfig, type Config } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { startServer, type RunningServer } from '../server.ts';
import { openStore } from '../store/open-store.ts';
import { superviseWorkers, WORKER_READY, workerCount } from './workers.ts';
import type { Store } from '../store/store.ts';

/** Opens the store (applying migrations) and refuses an APP_SECRET that cannot read the stored tokens. */
async function openCheckedStore(config: Config): Promise<Store> {
  const store = await openStore(config.database, createTokenCipher(config.appSecret), undefined, config);
  if (!(await store.tokens.keyMatches())) {
    await store.close();
    throw new ConfigError(['APP_SECRET does not match the key the stored OAuth tokens were encrypted with']);
  }
  return store;
}

export async function startServe(
  config: Config,
  logger: Logger = createLogger(config.logLevel, { format: config.logFormat }),
  opts: { reusePort?: boolean } = {},
): Promise<RunningServer> {
  const store = await openCheckedStore(config);
  const running = startServer({
    app: (peerIp) => createApp({ config, store, logger }, peerIp),
    store,
    logger,
    host: config.host,
    port: config.port,
    reusePort: opts.reusePort,
  });
  // One line says where it listens and with what settings (secrets only as set or not).
  logger.info('listening', { url: running.url, public_url: config.publicUrl, config: configSummary(config) });
  return { ...running, shutdown: scheduleJobs(running, store, logger) };
}

/** How often unconfirmed uninstalls are re-checked with Bitrix24 and due deletions carried out. */
const RECHECK_EVERY_MS = 10 * 60 * 1000;
/** How often calendar writes waiting for a retry are looked at (item changes start a run at once). */
const CALENDAR_SYNC_EVERY_MS = 30 * 1000;
/** How often every portal's offline events are read (ONOFFLINEEVENT also starts a read, at once). */
const OFFLINE_EVENTS_EVERY_MS = 5 * 60 * 1000;
/**
 * How often dormant tokens and day-old binding checks are looked for. Renewals happen at a share of a
 * lifetime of weeks or months and binding checks daily, so an hour's delay costs nothing; each run is
 * bounded (install-health.ts).
 */
const INSTALL_HEALTH_EVERY_MS = 60 * 60 * 1000;

/**
 * How long a job's lock outlives an instance that died holding it. A live holder renews it while the
 * job runs, so a long run keeps it; a crash frees it after this.
 */
const JOB_LOCK_TTL_SEC = 120;

/**
 * `job` run under the store's job lock `name`: with several instances on one database, one of them
 * runs it and the others skip this turn (an empty summary). SQLite files shared by several processes
 * take the same lock.
 */
export function once<T extends object>(store: Pick<Store, 'jobLocks'>, name: string, job: () => Promise<T>): () => Promise<T | { skipped: true }> {
  return async () => {
    const run = await store.jobLocks.tryRunExclusive(name, JOB_LOCK_TTL_SEC, job);
    return run.ran ? run.value : { skipped: true };
  };
}

/** Runs `job` every `everyMs`, never two at once; returns what stops it. */
function every(everyMs: number, name: string, job: () => Promise<object>, logger: Logger): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    job()
      .then((summary) => {
        if (Object.values(summary).some((n) => typeof n === 'number' && n > 0)) logger.info(`${name} ran`, { ...summary });
      })
      .catch((error: unknown) => logger.error(`${name} failed`, { error }))
      .finally(() => {
        busy = false;
      });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Runs the periodic jobs (and the calendar writes left from before a restart, at once); returns the
 * server's shutdown, which stops them. The lifecycle jobs and the offline-event drain run once across
 * the instances sharing the store (a job lock); the calendar sync runs everywhere, its jobs are leased
 * one by one.
 */
function scheduleJobs(running: RunningServer, store: Store, logger: Logger): RunningServer['shutdown'] {
  const { app } = running;
  const lifecycleJobs = once(store, 'lifecycle jobs', () => app.runLifecycleJobs());
  // At start every portal (what Bitrix24 kept while the app was down); afterwards only portals whose
  // app token is in use: ONOFFLINEEVENT starts a read of the others, and no timer refreshes their tokens.
  const offlineEventsAtStart = once(store, 'offline events', () => app.runOfflineEvents());
  const offlineEvents = once(store, 'offline events', () => app.runOfflineEvents({ liveTokensOnly: true }));
  const installHealth = once(store, 'install health', () => app.runInstallHealth());
  void app.runCalendarSync().catch((error: unknown) => logger.error('calendar sync failed', { error }));
  // What Bitrix24 kept for the app while it was down.
  void offlineEventsAtStart().catch((error: unknown) => logger.error('offline events failed', { error }));
  // At start too: an instance restarted more often than hourly would otherwise never run it.
  void installHealth().catch((error: unknown) => logger.error('install health failed', { error }));
  const stops = [
    every(RECHECK_EVERY_MS, 'lifecycle jobs', lifecycleJobs, logger),
    every(CALENDAR_SYNC_EVERY_MS, 'calendar sync', () => app.runCalendarSync(), logger),
    every(OFFLINE_EVENTS_EVERY_MS, 'offline events', offlineEvents, logger),
    every(INSTALL_HEALTH_EVERY_MS, 'install health', installHealth, logger),
  ];
  return (reason) => {
    for (const stop of stops) stop();
    return running.shutdown(reason);
  };
}

export function stopOnSignals(running: { shutdown(reason?: string): Promise<void> }): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void running.shutdown(signal).then(() => process.exit(0));
    });
  }
}

/**
 * `serve [--workers N]` (WORKERS; default: the number of cores). One worker serves in this process;
 * more are processes of their own on the same port under a supervisor (workers.ts).
 */
export async function runServe(env: Record<string, string | undefined>, args: string[] = []): Promise<void> {
  const config = loadConfig(env, 'serve');
  const asked = workerCount(args, env);
  if (asked === null) throw new ConfigError(['--workers (or WORKERS) must be a whole number from 1 to 256']);
  // PORT=0 means "any free port", which only one process can mean: each worker would get another.
  const workers = config.port === 0 ? 1 : asked;
  const worker = env.B24APP_WORKER;
  const logger = createLogger(config.logLevel, { format: config.logFormat, base: worker ? { worker: Number(worker) } : {} });
  if (workers === 1) {
    // Under a supervisor, the other workers listen on the same port; the supervisor hears when this one does.
    stopOnSignals(await startServe(config, logger, { reusePort: worker !== undefined }));
    if (worker !== undefined) process.send?.(WORKER_READY);
    return;
  }
  // Migrations once, before the workers race to apply them (they would serialise anyway).
  await (await openCheckedStore(config)).close();
  const supervisor = superviseWorkers(workers, { logger, env });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => supervisor.stop(signal));
  process.exit(await supervisor.done);
}
