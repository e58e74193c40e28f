/**
 * Builds the whole HTTP application from its dependencies: no globals, so tests build as many apps
 * as they like. The route table below is the app's whole HTTP surface, in one place.
 */
import { Elysia } from 'elysia';
import { html } from '@elysiajs/html';
import { createAttemptLimiter } from './auth/attempt-limiter.ts';
import { createLaunchVerifier } from './auth/launch-verifier.ts';
import { limitVerification } from './auth/limited-verifier.ts';
import { createSessions, type SessionPolicy } from './auth/sessions.ts';
import { createInstaller } from './auth/portal-install.ts';
import { createUninstaller, type JobSummary } from './auth/portal-uninstall.ts';
import { createSignIn } from './auth/sign-in.ts';
import { createBitrix, type Bitrix } from './bitrix/index.ts';
import type { Config } from './config.ts';
import { createItemService } from './domain/item-service.ts';
import { assetRoutes, createAssets, type Assets } from './http/assets.ts';
import type { RouteContext } from './http/context.ts';
import { withEdge } from './http/edge.ts';
import { createErrorHandler, methodLookup } from './http/errors.ts';
import { eventRoutes } from './http/events.ts';
import { healthRoutes } from './http/health.ts';
import { installRoutes } from './http/install.ts';
import { itemsApiRoutes } from './http/items-api.ts';
import { createItemsUi } from './http/items-ui.ts';
import { launchRoutes } from './http/launch.ts';
import { oauthRoutes } from './http/oauth.ts';
import { pageHeaders } from './http/page-security.ts';
import { sessionRoutes } from './http/session.ts';
import { createCalendarPort } from './integrations/calendar.ts';
import type { Logger } from './log.ts';
import type { Store } from './store/store.ts';

export interface AppDeps {
  config: Config;
  store: Store;
  logger: Logger;
  /** Defaults to a client built from the config; tests may pass one with shorter timeouts. */
  bitrix?: Bitrix;
  sessionPolicy?: SessionPolicy;
  /** Unix seconds; tests move it to see grace periods end. */
  now?: () => number;
}

export interface App {
  /** Handles one request end to end (edge + routes); what Bun.serve and tests call. */
  handle(request: Request): Promise<Response>;
  assets: Assets;
  router: Elysia<any, any, any, any, any, any, any>;
  /** Re-asks Bitrix24 about unconfirmed uninstalls and deletes what is due; the server runs it periodically. */
  runLifecycleJobs(): Promise<JobSummary>;
}

export function createApp(deps: AppDeps, peerIp?: (request: Request) => string | undefined): App {
  const { config, store, logger } = deps;
  const assets = createAssets(config.basePath);
  const bitrix =
    deps.bitrix ??
    createBitrix({
      store,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      oauthServers: config.oauthServers,
      logger,
      // Bitrix24 answers 302 after a portal is renamed: remember where it went.
      onPortalMoved: (from, to) => void store.portals.moveEndpoint(from, to, new URL(to).host).catch(() => undefined),
    });
  const sessions = createSessions(store, deps.sessionPolicy);
  const verifier = createLaunchVerifier({ bitrix, clientId: config.clientId, oauthServers: config.oauthServers, logger });
  // One limiter for everything that costs a round trip to the OAuth server on a stranger's say-so:
  // launches, session renewals, install events, OAuth callbacks, unauthenticated events.
  const attempts = createAttemptLimiter();
  const verifyLaunch = limitVerification(verifier, attempts);
  const uninstaller = createUninstaller({
    store,
    bitrix,
    logger,
    forgetPortal: verifier.forgetPortal,
    graceSec: config.uninstallGraceDays * 86_400,
    purgeDelaySec: config.cleanUninstallDelayMinutes * 60,
    now: deps.now,
  });
  const installer = createInstaller({ store, bitrix, logger, verifyLaunch: verifier, eventsUrl: `${config.publicUrl}/events` });
  const ctx: RouteContext = {
    config,
    store,
    logger,
    bitrix,
    sessions,
    attempts,
    verifyLaunch,
    signIn: createSignIn(store, sessions, uninstaller),
    assets,
    appOrigin: new URL(config.publicUrl).origin,
    url: (path) => `${config.basePath}${path}`,
    pageAssets: (frame) => ({
      css: assets.url('app.css'),
      ...(frame
        ? { htmx: assets.url('htmx.js'), alpine: assets.url('alpine.js'), island: assets.url('island.js'), bx24: config.bx24SdkUrl }
        : {}),
    }),
  };
  const items = createItemService(store.items, createCalendarPort(store, bitrix), { perUser: config.itemsPerUserMax });
  const itemsUi = createItemsUi(ctx, items);
  const onError = createErrorHandler({ logger, pageAssets: ctx.pageAssets(false), allowedMethods: methodLookup(() => router.routes) });

  const router: Elysia<any, any, any, any, any, any, any> = new Elysia()
    .use(html({ autoDetect: true, autoDoctype: false }))
    .onError(({ code, error, request, path }) => onError({ code, error, request, path }))
    .use(healthRoutes(store))
    .use(assetRoutes(assets))
    .use(launchRoutes(ctx, itemsUi.renderer, installer)) // GET, POST /
    .use(installRoutes(ctx, installer)) // GET, POST /install (installer page and ONAPPINSTALL)
    .use(eventRoutes(ctx, installer, uninstaller)) // POST /events
    .use(oauthRoutes(ctx)) // GET /auth/bitrix24
    .use(sessionRoutes(ctx)) // POST /api/session, GET /api/users/current
    .use(itemsApiRoutes(ctx, items)) // /api/items…, /api/export
    .use(itemsUi.routes); // /ui/items… (htmx fragments)

  const defaultHtmlCsp = pageHeaders(config, null)['content-security-policy']!;
  const handle = withEdge((request) => router.handle(request), { ...config, logger, defaultHtmlCsp }, peerIp);
  return { handle: async (request) => handle(request), assets, router, runLifecycleJobs: uninstaller.runJobs };
}
