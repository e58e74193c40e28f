/**
 * The emulator's whole state, created per `startEmulator` call (no module-level state): registered apps,
 * portals with their users and installations, the OAuth server's tokens, and counters.
 */
import type { Server } from 'bun';
import type { Clock } from './clock.ts';
import type { LeakyBucket } from './leaky-bucket.ts';
import type { OfflineRecord } from './offline-queue.ts';
import type { OperatingLimit } from './operating-limit.ts';
import type { PortalUser } from './portal-users.ts';
import type { Stats } from './stats.ts';
import type { TokenGrant, TokenRegistry } from './token-registry.ts';

export type AppStatus = 'L' | 'F' | 'D' | 'T' | 'P' | 'S';

export interface AppRecord {
  /** The portal-side numeric app ID (`app.info` ID). */
  id: number;
  client_id: string;
  client_secret: string;
  /** Shown in the portal's menu and title bar. */
  title: string;
  app_url: string;
  install_url: string;
  events_url?: string;
  scope: string[];
  /** The version a new installation gets; an update raises only that installation's. */
  version: number;
  /** The status a portal's billing starts from (`L` for `local.` client ids, else `F`). */
  status: AppStatus;
}

/** An app's billing on one portal, as the control API set it (billing.ts derives what app.info reports). */
export interface Billing {
  status: AppStatus;
  /** PAYMENT_EXPIRED as set. */
  paymentExpired: boolean;
  /** DAYS as set; null for none. */
  days: number | null;
  /** When DAYS was set, on the emulator's clock (it counts down from there). */
  daysSetAtMs: number;
}

export interface EventBinding {
  id: number;
  event: string;
  /** '' for an offline binding: Bitrix24 queues its events instead of calling anything. */
  handler: string;
  auth_type: number;
  offline: boolean;
  /** The `auth_connector` (source key) the app bound it with; offline records are kept per connector. */
  connector_id: string;
  /** ONOFFLINEEVENT only: `options.minTimeout`, seconds between two notifications (default 1). */
  min_timeout?: number;
  /** ONOFFLINEEVENT only: when it was last sent (and in which hit), for `minTimeout`. */
  last_signal?: { at_ms: number; hit: number };
}

export interface PlacementBinding {
  id: number;
  placement: string;
  handler: string;
  title: string;
  description: string;
  group_name: string;
  options: unknown;
  lang_all: unknown;
}

/** An app present on a portal. `installed` is INSTALLED=Y: false until installFinish (or the control API). */
export interface Installation {
  /** One install of the app on the portal; a reinstall is a new one, so the old one's tokens stay dead. */
  id: string;
  app: AppRecord;
  /** The app version installed here (`app.info` VERSION); `POST …/update` raises it. */
  version: number;
  installed: boolean;
  application_token: string;
  events: EventBinding[];
  /** The offline event queue of this installation (all connectors), oldest first. */
  offline: OfflineRecord[];
  placements: PlacementBinding[];
  appOptions: Record<string, unknown>;
  userOptions: Map<number, Record<string, unknown>>;
  /** Users who have sent `setInstall` (their FIRST_RUN is over). */
  firstRunDone: Set<number>;
}

export interface CalendarEvent {
  ID: number;
  /** CAL_TYPE: user, group or company_calendar. */
  type: string;
  ownerId: number;
  name: string;
  description: string;
  /** Start and end as instants (ms). An all-day event (DT_SKIP_TIME) sits at UTC midnight of its dates. */
  fromMs: number;
  toMs: number;
  /** TZ_FROM / TZ_TO (IANA names); '' for an all-day event. */
  tzFrom: string;
  tzTo: string;
  skipTime: boolean;
  createdBy: number;
  createdMs: number;
  /** TIMESTAMP_X: the last change. */
  modifiedMs: number;
  /** VERSION: 1 when created, +1 on every change. */
  version: number;
  /** Optional fields as given (COLOR, LOCATION, …), upper-cased. */
  fields: Record<string, unknown>;
}

/** One render of the app frame (APP_SID), so the page's ajax (refresh, install finish) knows who it is. */
export interface FrameSession {
  sid: string;
  client_id: string;
  user_id: number;
  placement: string;
  install: boolean;
}

export interface Portal {
  member_id: string;
  /**
   * How the app was added: with an installer page (false, the default; the portal frames the install
   * URL and waits for installFinish) or "Uses API only" (true; ONAPPINSTALL carries the tokens).
   */
  apiOnly: boolean;
  lang: string;
  /** The current address (`http://` + domain); a rename moves it, member_id stays. */
  origin: string;
  domain: string;
  client_endpoint: string;
  users: PortalUser[];
  installs: Map<string, Installation>;
  /** Billing per app (by client_id), as set through the control API; absent: the app's default status. */
  billing: Map<string, Billing>;
  bucket: LeakyBucket;
  operating: OperatingLimit;
  calendar: CalendarEvent[];
  frames: Map<string, FrameSession>;
  /** ID sequences; `hit` numbers requests and UI actions (one Bitrix24 hit each). */
  counters: { handler: number; placement: number; calendar: number; offline: number; hit: number };
  /**
   * One listener per domain the portal has had: the current one serves the portal, former ones (after a
   * rename) answer 302 to the current domain. Keyed by domain.
   */
  listeners: Map<string, Server<undefined>>;
}

export interface ResolvedOptions {
  host: string;
  rate: number;
  burst: number;
  latencyMs: number;
  accessTokenTtl: number;
  refreshTokenLifetimeDays: number;
  operatingLimitSeconds?: number;
  log: (line: string) => void;
}

export interface World {
  options: ResolvedOptions;
  /** The emulator's time (clock.ts): every date in the world is read from it. */
  clock: Clock;
  /** Filled in once the OAuth server listens. */
  oauthOrigin: string;
  apps: Map<string, AppRecord>;
  /** The app new portals get (the first one configured). */
  defaultClientId: string;
  portals: Map<string, Portal>;
  tokens: TokenRegistry;
  stats: Stats;
  nextAppId: number;
}

export function serverEndpoint(world: World): string {
  return `${world.oauthOrigin}/rest/`;
}

/** What a token for this user of this installation is issued for. */
export function grantFor(portal: Portal, install: Installation, userId: number): TokenGrant {
  return { client_id: install.app.client_id, member_id: portal.member_id, installation_id: install.id, user_id: userId, scope: install.app.scope };
}

export function findUser(portal: Portal, userId: number): PortalUser | undefined {
  return portal.users[userId - 1]?.ID === userId ? portal.users[userId - 1] : portal.users.find((u) => u.ID === userId);
}

export function log(world: World, msg: string, fields: Record<string, unknown> = {}): void {
  world.options.log(JSON.stringify({ time: new Date(world.clock.now()).toISOString(), component: 'emulator', msg, ...fields }));
}
