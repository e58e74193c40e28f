/**
 * `b24app dev`: the app and the portal emulator together on loopback, with matching configuration,
 * one portal with the app installed, and the portal page's URL printed. What the README's first
 * command runs. Options: --port 3000 (app), --emulator-port 4100 (the portal takes the next port),
 * --data ./data.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfig } from '../config.ts';
import { startEmulator } from '../emulator/index.ts';
import { createLogger } from '../log.ts';
import { startServe, stopOnSignals } from './serve.ts';

const DEV_CLIENT_ID = 'local.b24appdev000000.00000001';
const DEV_CLIENT_SECRET = 'b24app-dev-client-secret';

function flag(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
}

export async function runDev(env: Record<string, string | undefined>, argv: string[]): Promise<void> {
  const port = Number(flag(argv, 'port', env.PORT ?? '3000'));
  const emulatorPort = Number(flag(argv, 'emulator-port', '4100'));
  const database = env.DATABASE_URL ?? `sqlite:${flag(argv, 'data', './data')}/b24app.db`;
  const dataDir = database.startsWith('sqlite:') ? dirname(database.slice('sqlite:'.length)) : './data';
  const publicUrl = `http://localhost:${port}`;

  const emulator = await startEmulator({
    port: emulatorPort,
    apps: [{ client_id: DEV_CLIENT_ID, client_secret: DEV_CLIENT_SECRET, app_url: publicUrl, events_url: `${publicUrl}/events`, title: 'b24app' }],
  });
  const config = loadConfig(
    {
      ...env,
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: publicUrl,
      BASE_PATH: '',
      BITRIX24_CLIENT_ID: DEV_CLIENT_ID,
      BITRIX24_CLIENT_SECRET: DEV_CLIENT_SECRET,
      BITRIX24_OAUTH_SERVERS: emulator.url,
      BX24_SDK_URL: `${emulator.url}/api/v1/`,
      DATABASE_URL: database,
      APP_SECRET: env.APP_SECRET ?? devAppSecret(dataDir),
    },
    'dev',
  );
  const logger = createLogger(config.logLevel, { format: config.logFormat });
  const running = await startServe(config, logger);

  const post = async (path: string, body: unknown = {}) => {
    const res = await fetch(`${emulator.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`emulator ${path}: HTTP ${res.status}`);
    return res.json() as Promise<Record<string, string>>;
  };
  // The same portal (member_id and port) on every run, so the developer's items are still there.
  const portal = await post('/_emulator/portals', {
    lang: env.LANG?.startsWith('ru') ? 'ru' : 'en',
    member_id: devPortalMemberId(dataDir),
    port: emulatorPort + 1,
  });
  await post(`/_emulator/portals/${portal.member_id}/install`);

  process.stdout.write(
    [
      '',
      'b24app dev is running.',
      `  Open the portal (as its admin):  ${portal.portal_url}`,
      `  …as an ordinary user:            ${portal.portal_url}?user_id=2`,
      `  App: ${publicUrl}   Emulator control API: ${emulator.url}/_emulator/stats`,
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  stopOnSignals({
    shutdown: async (reason) => {
      await running.shutdown(reason);
      await emulator.stop();
    },
  });
}

/**
 * What `dev` keeps in the data folder so a restart finds everything as it was: a generated
 * APP_SECRET (mode 0600; stored tokens stay readable) and the emulated portal's member_id (the
 * developer's items stay on the same portal).
 */
function keptValue(dataDir: string, name: string, make: () => string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const value = make();
  writeFileSync(file, value + '\n', { mode: 0o600 });
  return value;
}

export const devAppSecret = (dataDir: string): string => keptValue(dataDir, 'app-secret', () => randomBytes(32).toString('base64url'));

export const devPortalMemberId = (dataDir: string): string => keptValue(dataDir, 'dev-portal-member-id', () => randomBytes(16).toString('hex'));
