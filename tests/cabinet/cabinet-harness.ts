/**
 * The cabinet under test: the real stack (emulator + app over loopback HTTP, SQLite or PostgreSQL) and users
 * signed in the way Bitrix24 signs them in — a launch form POSTed by the portal, the session token
 * read from the page. Requests carry the token as `Authorization: Bearer`, as htmx and API clients do.
 */
import type { EmulatedPortal, LaunchParams } from '../support/emulator-client.ts';
import { sessionTokenOf, startStack, type Stack } from '../support/stack.ts';

export interface ItemJson {
  id: string;
  name: string;
  data: Record<string, unknown> | null;
  status: 'active' | 'archived';
  starts_at: string | null;
  ends_at: string | null;
  calendar_event_id: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface Reply<T = any> {
  status: number;
  headers: Headers;
  text: string;
  json: T;
}

export interface CabinetUser {
  portal: EmulatedPortal;
  portalId: number;
  userId: number;
  token: string;
  /** The launch this user signed in with (its AUTH_ID/REFRESH_ID are the user's Bitrix24 tokens). */
  launch: LaunchParams;
  /** The full cabinet page the launch returned. */
  page: string;
  /** A JSON API call; `body` is JSON-encoded unless it is already a string. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  /** An htmx call: form-encoded body, `HX-Request: true`. */
  ui(method: string, path: string, form?: Record<string, string>, headers?: Record<string, string>): Promise<Reply>;
  create(fields: Record<string, unknown>): Promise<ItemJson>;
}

export interface ItemRowSnapshot {
  id: string;
  portal_id: number;
  owner_id: number;
  name: string;
  data: string | null;
  status: string;
  starts_at: number | null;
  ends_at: number | null;
  calendar_event_id: string | null;
  created_at: number;
  updated_at: number;
  version: number;
}

async function reply(res: Response): Promise<Reply> {
  const text = await res.text();
  let json: unknown = undefined;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) json = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, json };
}

export interface Cabinet {
  stack: Stack;
  /** A new portal with the app installed by its admin. */
  newPortal(spec?: Parameters<Stack['emu']['createPortal']>[0]): Promise<EmulatedPortal>;
  /** Launches the app as `userId` on `portal` and returns a signed-in client. */
  signIn(portal: EmulatedPortal, userId: number): Promise<CabinetUser>;
  /** Every item row of the database, ordered by id (for "nothing changed" assertions). */
  rows(): Promise<ItemRowSnapshot[]>;
  row(id: string): Promise<ItemRowSnapshot | null>;
  /** An unauthenticated (or custom-header) request. */
  raw(method: string, path: string, init?: RequestInit): Promise<Reply>;
  /**
   * The user's stored tokens die: someone else (another process, a stolen copy) spends the refresh
   * token the app keeps, and the access tokens expire. Nothing on the user's behalf works until they
   * open the app again.
   */
  killTokens(user: CabinetUser): Promise<void>;
  stop(): Promise<void>;
}

export async function openCabinet(opts: Parameters<typeof startStack>[0] = {}): Promise<Cabinet> {
  const stack = await startStack(opts);

  const call = (token: string | null) => (method: string, path: string, init: RequestInit = {}) =>
    fetch(stack.appUrl + path, {
      ...init,
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) },
    }).then(reply);

  return {
    stack,
    async newPortal(spec = {}) {
      const portal = await stack.emu.createPortal(spec);
      await stack.emu.install(portal.member_id);
      return portal;
    },
    async signIn(portal, userId) {
      const launch = await stack.emu.launch(portal.member_id, userId);
      const res = await stack.launch(launch);
      const page = await res.text();
      const token = sessionTokenOf(page);
      if (res.status !== 200 || !token) throw new Error(`launch as ${userId} failed: ${res.status} ${page.slice(0, 300)}`);
      const owner = await stack.sqlOne<{ portal_id: number }>('SELECT id AS portal_id FROM portals WHERE member_id = ?', [portal.member_id]);
      if (!owner) throw new Error('portal row not found after launch');
      const send = call(token);
      const user: CabinetUser = {
        portal,
        portalId: owner.portal_id,
        userId,
        token,
        launch,
        page,
        api(method, path, body, headers = {}) {
          const init: RequestInit = { headers: { ...headers } };
          if (body !== undefined) {
            init.body = typeof body === 'string' ? body : JSON.stringify(body);
            (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
          }
          return send(method, path, init);
        },
        ui(method, path, form, headers = {}) {
          const init: RequestInit = { headers: { 'hx-request': 'true', ...headers } };
          if (form) {
            init.body = new URLSearchParams(form).toString();
            (init.headers as Record<string, string>)['content-type'] = 'application/x-www-form-urlencoded';
          }
          return send(method, path, init);
        },
        async create(fields) {
          const r = await user.api('POST', '/api/items', fields);
          if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
          return r.json as ItemJson;
        },
      };
      return user;
    },
    rows: () => stack.sql<ItemRowSnapshot>('SELECT * FROM items ORDER BY id'),
    row: (id) => stack.sqlOne<ItemRowSnapshot>('SELECT * FROM items WHERE id = ?', [id]),
    raw: (method, path, init) => call(null)(method, path, init),
    async killTokens(user) {
      const spent = await fetch(`${stack.emulator.url}/oauth/token/`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: stack.clientId,
          client_secret: stack.clientSecret,
          refresh_token: user.launch.form.REFRESH_ID!,
        }),
      });
      if (spent.status !== 200) throw new Error(`could not spend the refresh token: ${spent.status}`);
      await stack.emu.expireTokens({ member_id: user.portal.member_id });
    },
    stop: () => stack.stop(),
  };
}
