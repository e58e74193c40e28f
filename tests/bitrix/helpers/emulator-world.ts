/**
 * A portal emulator over real HTTP plus a real store holding the portal's tokens, as the app would have
 * them after an install (a SQLite file, or with TEST_STORE=postgres a fresh PostgreSQL schema): what the integration tests and the benchmark start from.
 * The app is the test bed's recording sink, so the tokens come through the same channel as in
 * production: ONAPPINSTALL (form-encoded, bracket keys). The emulator is reached through `emu`, the
 * one emulator client (stats, expiring tokens, ...).
 */
import type { EmulatorOptions as AllEmulatorOptions } from '../../../src/emulator/index.ts';
import { createTokenCipher } from '../../../src/auth/secrets.ts';
import type { Store } from '../../../src/store/store.ts';
import type { Portal, TokenOwner } from '../../../src/domain/types.ts';
import type { EmulatorClient, EmulatorStats } from '../../support/emulator-client.ts';
import { startTestBed } from '../../support/test-bed.ts';
import { freshTestDatabase, type TestBackend } from '../../support/test-database.ts';

export const CLIENT_ID = 'local.bitrix-client-test';
export const CLIENT_SECRET = 'client-secret-for-tests-0123456789';
export const APP_SECRET = 'app-secret-for-bitrix-client-tests';

export type EmulatorOptions = Pick<AllEmulatorOptions, 'rate' | 'burst' | 'latencyMs' | 'operatingLimitSeconds'>;

export interface InstalledPortal {
  portal: Portal;
  owner: TokenOwner;
  memberId: string;
  /** The portal's own origin page (its `/oauth/authorize/` lives there). */
  portalUrl: string;
}

export interface World {
  oauthUrl: string;
  /** The emulator's control API. */
  emu: EmulatorClient;
  store: Store;
  backend: TestBackend;
  /** The store's DATABASE_URL (sqlite:PATH, or postgres://…?search_path=…): another process opens the same tables. */
  databaseUrl: string;
  installPortal(users?: number): Promise<InstalledPortal>;
  /** An installed portal and its app tokens, copied into `store` (another database than the world's): a second instance's view. */
  copyPortal(store: Store, installed: InstalledPortal): Promise<Portal>;
  /** `emu.stats()`, kept for bench/rest/pull-users.ts (outside tests/); tests use `emu`. */
  stats(): Promise<EmulatorStats>;
  stop(): Promise<void>;
}

/** `dbPath`: the SQLite file when the environment picks SQLite (TEST_STORE; `backend` overrides it). */
export async function startWorld(dbPath: string, opts: EmulatorOptions = {}, backend?: TestBackend): Promise<World> {
  const bed = await startTestBed(opts, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  const database = await freshTestDatabase({ backend, sqlitePath: dbPath });
  const store = await database.open({ cipher: createTokenCipher(APP_SECRET) });

  return {
    oauthUrl: bed.emulator.url,
    emu: bed.emu,
    store,
    backend: database.backend,
    databaseUrl: database.url,
    async copyPortal(other, installed) {
      const tokens = (await store.tokens.find(installed.portal.id, installed.owner))!;
      const portal = await other.portals.upsert({ ...installed.portal, appStatus: installed.portal.appStatus, scope: installed.portal.scope }, 'installed');
      await other.tokens.save(portal.id, installed.owner, tokens.userId, tokens);
      return portal;
    },
    async installPortal(users) {
      // API-only, so the tokens arrive as they do for such apps: in ONAPPINSTALL.
      const created = await bed.emu.createPortal(users ? { users, api_only: true } : { api_only: true });
      await bed.emu.install(created.member_id);
      const [event] = await bed.app.waitFor((r) => r.method === 'POST' && r.form.get('auth[member_id]') === created.member_id);
      const form = event!.form;
      const auth = (k: string) => form.get(`auth[${k}]`) ?? '';
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
    stats: () => bed.emu.stats(),
    async stop() {
      await store.close();
      await database.drop();
      await bed.stop();
    },
  };
}
