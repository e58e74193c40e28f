/**
 * Child process of the cabinet benchmark: the real app (createApp on Bun.serve, on a SQLite file, or
 * with `postgres` on a fresh schema of the local PostgreSQL server, TEST_DATABASE_URL) and the portal
 * emulator, one user signed in through a launch, 50 items. Prints one JSON line
 * `{url, token, db, backend, portalId, userId}` and serves until SIGTERM.
 *
 * The logger runs at `info`, the production default, so the access log line of every request is
 * built as it would be; the finished line is dropped instead of written to stdout, which would
 * otherwise be the benchmark's output.
 */
import { sessionTokenOf, startStack } from '../../tests/support/stack.ts';

const [dbPath, backendArg = 'sqlite'] = process.argv.slice(2);
if (!dbPath || (backendArg !== 'sqlite' && backendArg !== 'postgres')) throw new Error('usage: app-server.ts <sqlite file> [sqlite|postgres]');
const backend: 'sqlite' | 'postgres' = backendArg;

// PostgreSQL with the production pool size (DATABASE_POOL_MAX default).
const stack = await startStack({ env: { LOG_LEVEL: 'info', DATABASE_POOL_MAX: '10' }, keepLog: false, dbPath, backend });
const { appUrl } = stack;
const portal = await stack.emu.createPortal();
await stack.emu.install(portal.member_id);
const page = await (await stack.launch(await stack.emu.launch(portal.member_id, 2))).text();
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
const ids = (await stack.sqlOne<{ portal_id: number; owner_id: number }>('SELECT portal_id, owner_id FROM items LIMIT 1'))!;

console.log(JSON.stringify({ url: appUrl, token, db: backend === 'sqlite' ? dbPath : stack.database.url, backend, portalId: ids.portal_id, userId: ids.owner_id }));

process.on('SIGTERM', async () => {
  await stack.stop();
  process.exit(0);
});
