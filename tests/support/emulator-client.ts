/**
 * The one client for the portal emulator in tests: its control API (`/_emulator/...` on the OAuth
 * origin, as src/emulator/README.md documents it) and a portal's REST endpoint. Every test and
 * harness reaches the emulator through here; only tests/emulator/control.test.ts, whose subject is
 * the control API itself, may also send it raw HTTP.
 *
 * The types are the documented wire contract, written out here rather than imported from the
 * emulator's internals: the tests check the emulator from the outside, as an app would see it.
 */
import { waitFor, type WaitOptions } from './wait-for.ts';

export interface EmulatedPortal {
  member_id: string;
  /** `127.0.0.1:<port>`: each portal is its own origin. */
  domain: string;
  portal_url: string;
  client_endpoint: string;
  /** The app was added with "Uses API only" (ONAPPINSTALL instead of an installer page). */
  api_only: boolean;
}

/** `POST /_emulator/portals`. */
export interface PortalSpec {
  /** How many users (the six seeded ones, then `UserN TestN`), or the users themselves. */
  users?: number | Record<string, unknown>[];
  lang?: string;
  /** The app added to the portal; default the emulator's first app. */
  client_id?: string;
  /** A fixed identity (32 hex characters), as `b24app dev` uses. */
  member_id?: string;
  port?: number;
  api_only?: boolean;
}

/** A launch: the URL and form the portal page POSTs into the app's frame. */
export interface LaunchParams {
  /** The action, query included. */
  url: string;
  query: Record<string, string>;
  form: Record<string, string>;
  iframe_name: string;
}

/** `POST /_emulator/portals/:member_id/launch` besides the user. */
export interface LaunchSpec {
  client_id?: string;
  placement?: string;
  placement_options?: Record<string, unknown>;
}

/** One event POST the emulator made: the handler's status, or 0 and the error when it did not answer. */
export interface Delivery {
  url: string;
  status: number;
  error?: string;
}

export interface InstallResult {
  /** 'installed', or 'added' when the installer page did not answer 2xx. */
  app_status: 'installed' | 'added';
  /** The app's status letter (`L` local, `F` free, ...). */
  status: string;
  application_token: string;
  /** The installer page's status (installer apps); absent for API-only apps. */
  installer_status?: number;
  /** ONAPPINSTALL's delivery status (API-only apps), else null. */
  event_status: number | null;
  deliveries: Delivery[];
  /** The installer launch the emulator posted (installer apps), or a launch after the install. */
  launch: LaunchParams;
}

export interface UninstallResult {
  app_status: 'uninstalled';
  /** ONAPPUNINSTALL's delivery status; absent when the app was not on the portal. */
  event_status?: number | null;
  deliveries: Delivery[];
}

/** `POST /_emulator/apps`. */
export interface AppSpec {
  client_id: string;
  client_secret: string;
  app_url: string;
  install_url?: string;
  events_url?: string;
  /** Comma-separated. */
  scope?: string;
  title?: string;
}

export interface RegisteredApp {
  client_id: string;
  install_url: string;
  scope: string;
}

/** `POST /_emulator/tokens/expire`: which tokens; none given expires every token. */
export interface ExpireFilter {
  member_id?: string;
  access_token?: string;
  user_id?: number;
}

/** `GET /_emulator/stats[?member_id=]`: counters since the emulator started, overall or for one portal. */
export interface EmulatorStats {
  token_grants: number;
  refreshes: number;
  refresh_failures: number;
  rest_calls: number;
  rate_limited: number;
  operation_limited: number;
  /** Event POSTs begun; `events_sent + events_failed` catches up once every one was answered. */
  events_started: number;
  events_sent: number;
  events_failed: number;
  app_info_calls: number;
  offline_events_queued: number;
  offline_events_dropped: number;
  /** Requests to a renamed portal's former domain, answered with a 302. */
  portal_redirects: number;
}

/** `GET|POST /_emulator/clock`: the emulator's time in unix seconds, and how far ahead of real time it is. */
export interface EmulatorClock {
  now: number;
  offset_s: number;
}

/** The app's status letter on a portal: local, free, demo, trial, paid, subscription. */
export type AppStatusLetter = 'L' | 'F' | 'D' | 'T' | 'P' | 'S';

/** `POST /_emulator/portals/:member_id/billing`: fields left out keep their value. */
export interface BillingChange {
  client_id?: string;
  status?: AppStatusLetter;
  payment_expired?: 'Y' | 'N' | boolean;
  /** Days left in the paid or trial period (negative: past it); null for none. */
  days?: number | null;
}

/** The portal's billing of the app, as `app.info` reports it. */
export interface BillingState {
  status: AppStatusLetter;
  payment_expired: 'Y' | 'N';
  days: number | null;
}

/** `POST /_emulator/portals/:member_id/rename`. */
export interface RenameResult {
  old_domain: string;
  domain: string;
  portal_url: string;
  client_endpoint: string;
}

/** `POST /_emulator/portals/:member_id/update`: ONAPPUPDATE's deliveries and how many bindings the portal dropped. */
export interface UpdateResult {
  version: number;
  deliveries: Delivery[];
  dropped_bindings: number;
}

/** A user's change of a calendar entry in the Bitrix24 UI (the fields `calendar.event.update` takes, and `user_id`). */
export type CalendarEntryChange = Record<string, unknown> & { user_id?: number };

/** `GET /_emulator/portals/:member_id/offline-events`: the offline queues' depth. */
export interface OfflineQueueView {
  member_id: string;
  total: number;
  apps: { client_id: string; total: number; queues: { connector_id: string; total: number; waiting: number; reserved: number; errors: number }[] }[];
}

/** A control call the emulator refused: its status and its JSON (or text) answer. */
export class EmulatorControlError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`emulator ${path}: HTTP ${status} ${typeof body === 'string' ? body : JSON.stringify(body)}`);
    this.name = 'EmulatorControlError';
  }
}

async function answer<T>(path: string, res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the error
  }
  if (!res.ok) throw new EmulatorControlError(path, res.status, body);
  return body as T;
}

/** A client for the emulator at `target` (its OAuth origin, or a started emulator). */
export function emulatorClient(target: string | { url: string }) {
  const origin = typeof target === 'string' ? target : target.url;
  const get = async <T>(path: string): Promise<T> => answer<T>(path, await fetch(`${origin}${path}`));
  const post = async <T>(path: string, body: object): Promise<T> =>
    answer<T>(path, await fetch(`${origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
  const del = async <T>(path: string): Promise<T> => answer<T>(path, await fetch(`${origin}${path}`, { method: 'DELETE' }));
  const portalPath = (memberId: string, action: string) => `/_emulator/portals/${encodeURIComponent(memberId)}/${action}`;

  const client = {
    origin,
    /** A new portal on its own origin, with the app added but not installed. */
    createPortal: (spec: PortalSpec = {}) => post<EmulatedPortal>('/_emulator/portals', spec),
    /** Every portal of this emulator. */
    portals: () => get<EmulatedPortal[]>('/_emulator/portals'),
    /** The admin (user 1 unless `user_id`) installs the app: installer page, or ONAPPINSTALL for API-only apps. */
    install: (memberId: string, as: { client_id?: string; user_id?: number } = {}) => post<InstallResult>(portalPath(memberId, 'install'), as),
    /** The admin removes the app (every token dies), then ONAPPUNINSTALL with CLEAN as given. */
    uninstall: (memberId: string, clean: boolean, as: { client_id?: string } = {}) =>
      post<UninstallResult>(portalPath(memberId, 'uninstall'), { clean, ...as }),
    /** `userId` opens the app: the launch the portal page would POST, with fresh tokens. */
    launch: (memberId: string, userId = 1, spec: LaunchSpec = {}) => post<LaunchParams>(portalPath(memberId, 'launch'), { user_id: userId, ...spec }),
    /** Another app the emulator knows. */
    registerApp: (spec: AppSpec) => post<RegisteredApp>('/_emulator/apps', spec),
    /** Access tokens matching the filter expire now; answers how many did. */
    expireTokens: (filter: ExpireFilter = {}) => post<{ expired: number }>('/_emulator/tokens/expire', filter),
    /** The emulator's clock; `advance(seconds)` moves it forward (tokens and codes expire by it). */
    clock: (advanceSeconds?: number) =>
      advanceSeconds === undefined ? get<EmulatorClock>('/_emulator/clock') : post<EmulatorClock>('/_emulator/clock', { advance_s: advanceSeconds }),
    /** Sets the portal's billing of the app (default: the emulator's first app); answers the resulting state. */
    billing: (memberId: string, change: BillingChange) => post<BillingState>(portalPath(memberId, 'billing'), change),
    /** An administrator renames the portal; its former domain then answers 302 to the new one. */
    rename: (memberId: string, to: { domain?: string } = {}) => post<RenameResult>(portalPath(memberId, 'rename'), to),
    /** A new version of the app reaches the portal: ONAPPUPDATE, then the app's event bindings are gone. */
    update: (memberId: string, spec: { client_id?: string; version?: number } = {}) => post<UpdateResult>(portalPath(memberId, 'update'), spec),
    /** A user edits calendar entry `id` in the Bitrix24 UI; answers once the app received the events it causes. */
    editCalendarEntry: (memberId: string, id: string | number, change: CalendarEntryChange) =>
      post<{ event: Record<string, unknown>; deliveries: Delivery[]; queued: number }>(portalPath(memberId, `calendar/${id}`), change),
    /** A user deletes calendar entry `id` in the Bitrix24 UI (default: its owner). */
    deleteCalendarEntry: (memberId: string, id: string | number, userId?: number) =>
      del<{ deleted: boolean; deliveries: Delivery[]; queued: number }>(portalPath(memberId, `calendar/${id}${userId ? `?user_id=${userId}` : ''}`)),
    /** How many offline event records wait, per app and connector. */
    offlineEvents: (memberId: string, clientId?: string) =>
      get<OfflineQueueView>(portalPath(memberId, `offline-events${clientId ? `?client_id=${encodeURIComponent(clientId)}` : ''}`)),
    stats: (memberId?: string) => get<EmulatorStats>(`/_emulator/stats${memberId ? `?member_id=${encodeURIComponent(memberId)}` : ''}`),
    /** Polls the stats (of one portal, or overall) until `ready` holds for them; returns those stats. */
    waitForStats: (ready: (stats: EmulatorStats) => boolean, opts: WaitOptions & { memberId?: string } = {}) =>
      waitFor(
        async () => {
          const stats = await client.stats(opts.memberId);
          return ready(stats) && stats;
        },
        { what: 'emulator stats', ...opts },
      ),
  };
  return client;
}

export type EmulatorClient = ReturnType<typeof emulatorClient>;

/** A REST call on a portal the way a server-side client makes it: JSON body with `auth`. */
export async function rest(
  endpoint: string,
  method: string,
  params: Record<string, unknown> = {},
  auth?: string,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${endpoint}${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(auth === undefined ? params : { ...params, auth }),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}
