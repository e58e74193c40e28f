/**
 * Child process of the cabinet benchmark: the real app (createApp on Bun.serve, SQLite file) and the
 * portal emulator, one user signed in through a launch, 50 items. Prints one JSON line
 * `{url, token, db, portalId, userId}` and serves until SIGTERM.
 *
 * The logger runs at `info`, the production default, so the access log line of every request is
 * built as it would be; the finished line is dropped instead of written to stdout, which would
 * otherwise be the benchmark's output.
 */
import { createApp } from '../../src/app.ts';
import { createTokenCipher } from '../../src/auth/token-cipher.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import { createLogger } from '../../src/log.ts';
import { startServer } from '../../src/server.ts';
import { openSqliteStore } from '../../src/store/sqlite/open-store.ts';
import { testConfig, TEST_APP_SECRET } from '../../tests/support/config.ts';
import { emulatorClient } from '../../tests/support/emulator-client.ts';
import { freePort, sessionTokenOf } from '../../tests/support/stack.ts';

const dbPath = process.argv[2];
if (!dbPath) throw new Error('usage: app-server.ts <sqlite file>');

const port = await freePort();
const appUrl = `http://localhost:${port}`;
const clientId = 'local.0bench0cabinet0.12345678';
const clientSecret = `secret-${crypto.randomUUID()}`;
const emulator = await startEmulator({ port: 0, apps: [{ client_id: clientId, client_secret: clientSecret, app_url: appUrl, events_url: `${appUrl}/events` }] });
const config = testConfig({
  PUBLIC_URL: appUrl,
  HOST: '127.0.0.1',
  PORT: String(port),
  BITRIX24_CLIENT_ID: clientId,
  BITRIX24_CLIENT_SECRET: clientSecret,
  BITRIX24_OAUTH_SERVERS: emulator.url,
  BX24_SDK_URL: `${emulator.url}/api/v1/`,
  DATABASE_URL: `sqlite:${dbPath}`,
  LOG_LEVEL: 'info',
});
const store = await openSqliteStore(dbPath, { cipher: createTokenCipher(TEST_APP_SECRET) });
const logger = createLogger('info', () => undefined);
const server = startServer({ app: (peer) => createApp({ config, store, logger }, peer), store, logger, host: '127.0.0.1', port });

const emu = emulatorClient(emulator.url);
const portal = await emu.createPortal();
await emu.install(portal.member_id);
const launch = await emu.launch(portal.member_id, 2);
const url = new URL(appUrl + '/');
for (const [k, v] of Object.entries(launch.query)) url.searchParams.set(k, v);
const page = await (await fetch(url, { method: 'POST', body: new URLSearchParams(launch.form) })).text();
const token = sessionTokenOf(page);
if (!token) throw new Error('launch failed');

for (let i = 0; i < 50; i++) {
  const res = await fetch(`${appUrl}/api/items`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: `Item ${i}: quarterly planning — Квартальный план`,
      data: { notes: `Notes for item ${i}`, priority: i % 3 },
      status: i % 5 === 0 ? 'archived' : 'active',
      starts_at: i % 2 ? '2026-12-01T10:00:00Z' : null,
    }),
  });
  if (res.status !== 201) throw new Error(`seed failed: ${res.status}`);
}
const ids = store.db.query<{ portal_id: number; owner_id: number }, []>('SELECT portal_id, owner_id FROM items LIMIT 1').get()!;

console.log(JSON.stringify({ url: appUrl, token, db: dbPath, portalId: ids.portal_id, userId: ids.owner_id }));

process.on('SIGTERM', async () => {
  await server.shutdown('bench done');
  await emulator.stop();
  process.exit(0);
});
