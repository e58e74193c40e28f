/**
 * The portal emulator: an offline Bitrix24 (OAuth server, portals on their own origins, REST, events,
 * the app-frame host and a BX24 library) for development and tests. It imports nothing from the app;
 * everything is created per `startEmulator` call.
 */
import { createClock } from './clock.ts';
import { registerApp, type AppDefinition } from './installation.ts';
import { createOAuthFetch } from './oauth-server.ts';
import { createStats } from './stats.ts';
import { createTokenRegistry } from './token-registry.ts';
import type { World } from './world.ts';


export interface EmulatorAppOptions {
  client_id: string;
  client_secret: string;
  app_url: string;
  /** Where ONAPPINSTALL goes and the installer page lives; default app_url + '/install'. */
  install_url?: string;
  /** Where ONAPPUNINSTALL goes if the app bound no handler for it. */
  events_url?: string;
  /** Comma-separated; default 'user,placement,calendar'. */
  scope?: string;
  /** Shown in the portal page's menu and title. */
  title?: string;
}

export interface EmulatorOptions {
  host?: string;
  /** OAuth server port; 0 = ephemeral. */
  port?: number;
  apps: EmulatorAppOptions[];
  /** Leaky bucket drain per second (2; Enterprise 5). */
  rate?: number;
  /** Leaky bucket size (50; Enterprise 250). */
  burst?: number;
  latencyMs?: number;
  /** Access token lifetime in seconds (3600). */
  accessTokenTtl?: number;
  /** How long a refresh token lives unless used, in days (180; older Bitrix24 texts say 28). */
  refreshTokenLifetimeDays?: number;
  /** Per-method operating limit over 10 minutes, in seconds; off by default. */
  operatingLimitSeconds?: number;
  log?: (line: string) => void;
}

export interface Emulator {
  /** OAuth server origin, e.g. http://127.0.0.1:4100 */
  url: string;
  stop(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  if (!options.apps.length) throw new Error('startEmulator: at least one app is required');
  const refreshTokenLifetimeDays = options.refreshTokenLifetimeDays ?? 180;
  if (!(refreshTokenLifetimeDays > 0)) throw new Error('startEmulator: refreshTokenLifetimeDays must be positive');
  const clock = createClock();
  const accessTokenTtl = options.accessTokenTtl ?? 3600;
  const world: World = {
    options: {
      host: options.host ?? '127.0.0.1',
      rate: options.rate ?? 2,
      burst: options.burst ?? 50,
      latencyMs: options.latencyMs ?? 0,
      accessTokenTtl,
      refreshTokenLifetimeDays,
      log: options.log ?? (() => undefined),
      ...(options.operatingLimitSeconds !== undefined ? { operatingLimitSeconds: options.operatingLimitSeconds } : {}),
    },
    clock,
    oauthOrigin: '',
    apps: new Map(),
    defaultClientId: options.apps[0]?.client_id ?? '',
    portals: new Map(),
    tokens: createTokenRegistry(clock, { accessSeconds: accessTokenTtl, refreshDays: refreshTokenLifetimeDays }),
    stats: createStats(),
    nextAppId: 1,
  };
  for (const app of options.apps) registerApp(world, app as AppDefinition);
  const server = Bun.serve({ hostname: world.options.host, port: options.port ?? 0, fetch: createOAuthFetch(world) });
  const host = world.options.host === '0.0.0.0' ? '127.0.0.1' : world.options.host;
  world.oauthOrigin = `http://${host}:${server.port}`;
  return {
    url: world.oauthOrigin,
    async stop() {
      // Every listener a portal has had: the current domain and the former ones still answering 302.
      await Promise.all([...world.portals.values()].flatMap((p) => [...p.listeners.values()].map((server) => server.stop(true))));
      await server.stop(true);
    },
  };
}
