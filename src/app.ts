/**
 * Builds the whole HTTP application from its dependencies: no globals, so tests build as many apps
 * as they like. The route table below is the app's whole HTTP surface, in one place.
 */
import { Elysia } from 'elysia';
import { html } from '@elysiajs/html';
import { createDateFormats } from '../views/format.ts';
import { createSharedAttemptLimiter, defaultAttemptLimits, limitVerification } from './auth/attempt-limiter.ts';
import { createLaunchVerifier } from './auth/launch-verifier.ts';
import { createOAuthSignIn } from './auth/oauth-sign-in.ts';
import { createBilling } from './auth/billing.ts';
import { createInstallHealth, type HealthSummary } from './auth/install-health.ts';
import { createInstaller } from './auth/portal-install.ts';
import { authenticateEvent, createUninstaller, type JobSummary } from './auth/portal-uninstall.ts';
import { createSessions, type SessionPolicy } from './auth/sessions.ts';
import { createSignIn } from './auth/sign-in.ts';
import { createBitrix, type Bitrix } from './bitrix/index.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { SyncSummary } from './domain/calendar-sync.ts';
import { createItemService } from './domain/item-service.ts';
import { adminRoutes } from './http/admin.ts';
import { createAssets, healthAndAssetRoutes, type Assets } from './http/assets.ts';
import { createRequestMeta, withEdge } from './http/edge.ts';
import { createErrorHandler, methodLookup } from './http/errors.ts';
import { createEventIntake } from './http/events.ts';
import { installRoutes } from './http/install.ts';
import { itemsApiRoutes } from './http/items-api.ts';
import { createItemsUi } from './http/items-ui.ts';
import { launchRoutes } from './http/launch.ts';
import { metricsEndpoint } from './http/metrics.ts';
import { oauthRoutes } from './http/oauth.ts';
import { openApiRoutes } from './http/openapi.ts';
import { createPages, pageCsp } from './http/pages.ts';
import { sessionRoutes } from './http/session.ts';
import { createCalendarKeeper } from './integrations/calendar-keeper.ts';
import type { OfflineDrainSummary } from './integrations/offline-events.ts';
import type { Logger } from './log.ts';
import { createAppMetrics, type AppMetrics } from './metrics/app-metrics.ts';
import type { Store } from './store/store.ts';

export interface AppDeps {
  config: Config;
  store: Store;
  logger: Logger;
  /** Defaults to a client built from the config; tests may pass one with shorter timeouts. */
  bitrix?: Bitrix;
  sessionPolicy?: SessionPolicy;
  /** The time; tests move it to see grace periods end. */
  clock?: Clock;
  /** Defaults to the app's own set (src/metrics), served at /metrics. */
  metrics?: AppMetrics;
}

export interface App {
  /** Handles one request end to end (edge + routes); what Bun.serve and tests call. */
  handle(request: Request): Promise<Response>;
  assets: Assets;
  router: Elysia<any, any, any, any, any, any, any>;
  /** What /metrics shows; the server starts its event-loop probe. */
  metrics: AppMetrics;
  /** Re-asks Bitrix24 about unconfirmed uninstalls and deletes what is due; the server runs it periodically. */
  runLifecycleJobs(): Promise<JobSummary>;
  /** Performs the calendar writes that are due; item changes start it, the server also runs it periodically. */
  runCalendarSync(): Promise<SyncSummary>;
  /**
   * Reads installed portals' offline events into the calendar queue, then runs the sync: every portal,
   * or (`liveTokensOnly`, the periodic run) those whose app token is in use, so idle tokens are not
   * refreshed on a timer.
   */
  runOfflineEvents(opts?: { liveTokensOnly?: boolean }): Promise<OfflineDrainSummary>;
  /** Renews dormant tokens and repairs event bindings not checked for a day (install-health.ts). */
  runInstallHealth(): Promise<HealthSummary>;
  /** Resolves once background work in flight is done (graceful shutdown). */
  idle(): Promise<void>;
}

export function createApp(deps: AppDeps, peerIp?: (request: Request) => string | undefined): App {
  const { config, store, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createAppMetrics({ clock, logger, queueDepth: () => store.calendarQueue.depth() });
  const bitrix =
    deps.bitrix ??
    createBitrix({
      store,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      oauthServers: config.oauthServers,
      logger,
      // One REST budget per portal for every instance on this store (architecture §7).
      sharedBuckets: store.leakyBuckets,
      nowMs: clock.nowMs,
      metrics: metrics.bitrix,
      // Bitrix24 answers 302 after a portal is renamed: remember where it went.
      onPortalMoved: (from, to) => void store.portals.moveEndpoint(from, to, new URL(to).host).catch(() => undefined),
    });

  // Items' calendar events kept in step with Bitrix24 (src/integrations, over the domain's sync).
  const calendar = createCalendarKeeper({ store, bitrix, clock, logger });

  // Who is asking (src/auth): launches verified with Bitrix24, installs and uninstalls, sessions.
  const sessions = createSessions(store, deps.sessionPolicy, clock.now, clock.nowMs, metrics.sessionIssued);
  const verifier = createLaunchVerifier({ bitrix, clientId: config.clientId, oauthServers: config.oauthServers, logger, now: clock.now });
  // One limiter for everything that costs a round trip to the OAuth server on a stranger's say-so:
  // launches, session renewals, install events, OAuth callbacks, unauthenticated events. Its counts are
  // rows in the store (`launch:<client>`), so every instance on it counts a client's failures together.
  const attempts = createSharedAttemptLimiter(store.leakyBuckets, { ...defaultAttemptLimits, prefix: 'launch:' }, logger);
  // OAuth sign-ins started per client (each stores a state), shared the same way.
  const starts = createSharedAttemptLimiter(store.leakyBuckets, { ...defaultAttemptLimits, prefix: 'oauth-start:' }, logger);
  const uninstaller = createUninstaller({
    store,
    bitrix,
    logger,
    forgetPortal: (memberId, portalId) => {
      verifier.forgetPortal(memberId);
      sessions.forgetPortal(portalId);
    },
    graceSec: config.uninstallGraceDays * 86_400,
    purgeDelaySec: config.cleanUninstallDelayMinutes * 60,
    now: clock.now,
  });
  const installer = createInstaller({ store, bitrix, logger, verifyLaunch: verifier, eventsUrl: `${config.publicUrl}/events`, now: clock.now });
  const billing = createBilling({ bitrix, clock, logger });
  const health = createInstallHealth({
    store,
    bitrix,
    installer,
    billing,
    logger,
    clock,
    refreshLifetimeSec: config.refreshTokenLifetimeDays * 86_400,
    renewAfterSec: Math.round((config.refreshTokenLifetimeDays * 86_400 * config.tokenRenewAtPercent) / 100),
  });
  const signIn = createSignIn({
    store,
    sessions,
    verifyLaunch: limitVerification(verifier, attempts),
    installer,
    uninstaller,
    logger,
    onUserTokens: (actor) => calendar.userReconnected(actor),
    onAdminLaunch: (portal) => health.adminLaunched(portal),
    billing,
    nowMs: clock.nowMs,
  });
  const oauth = createOAuthSignIn({ config, store, bitrix, signIn, attempts, starts, clock, logger });

  // What the user works with (src/domain).
  const items = createItemService({
    items: store.items,
    calendar: calendar.gateway,
    queue: store.calendarQueue,
    onCalendarWork: calendar.start,
    limits: { perUser: config.itemsPerUserMax, calendarWriteDelay: config.calendarWriteDelaySeconds },
    clock,
  });

  // The HTTP side (src/http): one room per area of the route table.
  const assets = createAssets(config.basePath);
  const pages = createPages(config, assets, clock);
  const meta = createRequestMeta();
  const appOrigin = new URL(config.publicUrl).origin;
  const events = createEventIntake({
    installer,
    uninstaller,
    authenticateEvent: (origin) => authenticateEvent(store, origin),
    portalEvents: calendar.portalEvents,
    appUpdated: (portal) => health.appUpdated(portal),
    attempts,
    meta,
    logger,
  });
  const itemsUi = createItemsUi({ items, signIn, sessions, appOrigin, pages, dates: createDateFormats(clock.nowMs), meta });
  const onError = createErrorHandler({ logger, meta, pageAssets: pages.assets(false), allowedMethods: methodLookup(() => router.routes) });

  // Each route's handler is compiled on its first request (Elysia's default): compiling all 33 at start
  // cost a cold start about 20 ms and 3 MB (bench/startup). Once compiled it is kept (checked: the
  // composed handlers stay the same objects across requests).
  const router: Elysia<any, any, any, any, any, any, any> = new Elysia()
    .use(html({ autoDetect: true, autoDoctype: false }))
    // The route pattern that took the request (`/api/items/:id`, never the raw path), for the access
    // log and the metrics. Elysia sets `route` on the context only when a hook reads it, right after
    // routing; transform runs for every matched route, and onError catches those that failed earlier
    // (a body that could not be parsed).
    .onTransform(({ request, route }) => meta.noteRoute(request, route))
    .onError(({ code, error, request, path, route }) => {
      if (route) meta.noteRoute(request, route);
      return onError({ code, error, request, path });
    })
    .use(healthAndAssetRoutes(store.readiness, assets)) // GET /health, /ready, /public/:file
    .use(openApiRoutes(() => router.routes, { publicUrl: config.publicUrl })) // GET /openapi.json (the /api/* routes below)
    .use(launchRoutes({ signIn, sessions, cabinet: itemsUi.renderer, pages, meta })) // GET, POST /
    .use(installRoutes(signIn, events, pages, meta)) // GET, POST /install (installer page and ONAPPINSTALL)
    .use(events.routes) // POST /events
    .use(oauthRoutes(oauth, pages, meta, config)) // GET /auth/bitrix24
    .use(sessionRoutes(signIn, sessions, appOrigin, meta)) // POST /api/session, GET /api/users/current
    .use(itemsApiRoutes(items, sessions, appOrigin, clock, meta)) // /api/items…, /api/export
    .use(itemsUi.routes) // /ui/items… (htmx fragments)
    .use(adminRoutes({ signIn, health, queue: store.calendarQueue, sessions, appOrigin, pages, viewFor: itemsUi.viewFor, meta })); // /ui/admin, /api/admin/… (portal administrators)

  // GET /metrics, for admitted scrapers only; anyone else goes on to the route table, whose 404 is
  // that of any unknown path (src/http/metrics.ts).
  const metricsAnswer = metricsEndpoint(config, meta, metrics.scrape);
  const handle = withEdge(
    (request, path) => metricsAnswer(request, path) ?? router.handle(request),
    { ...config, logger, meta, metrics: metrics.http, defaultHtmlCsp: pageCsp(config, null) },
    peerIp,
  );
  return {
    handle: async (request) => handle(request),
    assets,
    router,
    metrics,
    async runLifecycleJobs() {
      const summary = await uninstaller.runJobs();
      // The shared buckets' rows of portals nobody called for an hour are empty anyway.
      await store.leakyBuckets?.sweep('rest:', 3600, 100_000).catch((error: unknown) => logger.warn('bucket sweep failed', { error }));
      // Operating-time figures are stale ten minutes after they were written.
      await store.leakyBuckets?.sweep('op:', 900, 100_000).catch((error: unknown) => logger.warn('bucket sweep failed', { error }));
      // The limiters' rows: empty once idle, and capped (each instance also sweeps as it records).
      await attempts.sweep();
      await starts.sweep();
      return summary;
    },
    runCalendarSync: calendar.runSync,
    runOfflineEvents: calendar.runOfflineEvents,
    runInstallHealth: health.runJobs,
    async idle() {
      await Promise.all([calendar.idle(), health.idle()]);
    },
  };
}
