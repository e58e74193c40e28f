/**
 * Builds the whole HTTP application from its dependencies: no globals, so tests build as many apps
 * as they like. The route table below is the app's whole HTTP surface, in one place.
 */
import { Elysia } from 'elysia';
import { html } from '@elysiajs/html';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import type { Store } from './store/store.ts';
import { assetRoutes, createAssets, type Assets } from './http/assets.ts';
import { withEdge } from './http/edge.ts';
import { createErrorHandler } from './http/errors.ts';
import { healthRoutes } from './http/health.ts';

export interface AppDeps {
  config: Config;
  store: Store;
  logger: Logger;
}

export interface App {
  /** Handles one request end to end (edge + routes); what Bun.serve and tests call. */
  handle(request: Request): Promise<Response>;
  assets: Assets;
  router: Elysia<any, any, any, any, any, any, any>;
}

export function createApp(deps: AppDeps, peerIp?: (request: Request) => string | undefined): App {
  const { config, store, logger } = deps;
  const assets = createAssets(config.basePath);
  const onError = createErrorHandler({ logger, pageAssets: { css: assets.url('app.css') } });

  const router = new Elysia()
    .use(html({ autoDetect: true, autoDoctype: false }))
    .onError(({ code, error, request, path }) => onError({ code, error, request, path }))
    .use(healthRoutes(store))
    .use(assetRoutes(assets));

  const handle = withEdge((request) => router.handle(request), { ...config, logger }, peerIp);
  return { handle: async (request) => handle(request), assets, router };
}
