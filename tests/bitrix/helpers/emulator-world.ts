/**
 * A portal emulator over real HTTP plus a real SQLite store holding the portal's tokens, as the app
 * would have them after an install: what the integration tests and the benchmark start from.
 * The app's install handler is a tiny Bun server that records ONAPPINSTALL (form-encoded, bracket
 * keys), so the tokens come through the same channel as in production.
 */
import { startEmulator } from '../../../src/emulator/index.ts';
import { createTokenCipher } from '../../../src/auth/secrets.ts';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/open-store.ts';
import type { Portal, TokenOwner } from '../../../src/domain/types.ts';

export const CLIENT_ID = 'local.bitrix-client-test';
export const CLIENT_SECRET = 'client-secret-for-tests-0123456789';
export const APP_SECRET = 'app-secret-for-bitrix-client-tests';

export interface EmulatorOptions {
  rate?: number;
  burst?: number;
  latencyMs?: number;
  operatingLimitSeconds?: number;
}

export interface Stats {
  token_grants: number;
  refreshes: number;
  refresh_failures: number;
  rest_calls: number;
  rate_limited: number;
  events_sent: number;
}

export interface InstalledPortal {
  portal: Portal;
  owner: TokenOwner;
  memberId: string;
  /** The portal's own origin page (its `/oauth/authorize/` lives there). */
  portalUrl: string;
}

export interface World {
  oauthUrl: string;
  store: SqliteStore;
  dbPath: string;
  installPortal(users?: number): Promise<InstalledPortal>;
  expireTokens(memberId?: string): Promise<void>;
  stats(): Promise<Stats>;
  stop(): Promise<void>;
}

export async function startWorld(dbPath: string, opts: EmulatorOptions = {}): Promise<World> {
  const installs: URLSearchParams[] = [];
  const app = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      if (req.method === 'POST') installs.push(new URLSearchParams(await req.text()));
      return new Response('ok');
    },
  });
  const emulator = await startEmulator({
    port: 0,
    apps: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, app_url: `http://127.0.0.1:${app.port}/` }],
    ...opts,
  });
  const store = await openSqliteStore(dbPath, { cipher: createTokenCipher(APP_SECRET) });
  const control = async <T>(path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${emulator.url}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`emulator ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  return {
    oauthUrl: emulator.url,
    store,
    dbPath,
    async installPortal(users) {
      // API-only, so the tokens arrive as they do for such apps: in ONAPPINSTALL.
      const created = await control<{ member_id: string; domain: string; portal_url: string; client_endpoint: string }>('/_emulator/portals', users ? { users, api_only: true } : { api_only: true });
      await control(`/_emulator/portals/${created.member_id}/install`, {});
      const event = await waitFor(() => installs.find((f) => f.get('auth[member_id]') === created.member_id));
      const auth = (k: string) => event.get(`auth[${k}]`) ?? '';
      const portal = await store.portals.upsert(
        {
          memberId: created.member_id,
          domain: auth('domain') || created.domain,
          clientEndpoint: auth('client_endpoint') || created.client_endpoint,
          serverEndpoint: auth('server_endpoint'),
          appStatus: auth('status'),
          scope: auth('scope'),
        },
        'installed',
      );
      const owner: TokenOwner = { kind: 'app' };
      await store.tokens.save(portal.id, owner, Number(auth('user_id') || 1), {
        accessToken: auth('access_token'),
        refreshToken: auth('refresh_token'),
        expiresAt: Number(auth('expires')),
        scope: auth('scope'),
      });
      return { portal, owner, memberId: created.member_id, portalUrl: created.portal_url };
    },
    expireTokens: (memberId) => control('/_emulator/tokens/expire', memberId ? { member_id: memberId } : {}).then(() => undefined),
    stats: () => control<Stats>('/_emulator/stats'),
    async stop() {
      await store.close();
      await emulator.stop();
      app.stop(true);
    },
  };
}

async function waitFor<T>(probe: () => T | undefined, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('ONAPPINSTALL did not arrive');
    await Bun.sleep(10);
  }
}
