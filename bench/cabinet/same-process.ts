/**
 * Where the list's time goes, apart from the machine's noise: the app and the "bytes" floor served by
 * ONE process (same heap, same event loop, same Bun.serve settings), so what differs is only the code
 * each request runs. Prints, for three rounds, req/s of each over HTTP (wrk) and µs per call of each
 * called directly (no HTTP: `app.handle` on a JavaScript Request against the floor's function).
 *
 *   bun bench/cabinet/same-process.ts        (needs wrk for the HTTP half)
 */
import { Database } from 'bun:sqlite';
import { sessionTokenOf, startStack } from '../../tests/support/stack.ts';
import { tempDir } from '../../tests/support/temp.ts';
import { createFloors } from './floors.ts';
import { runLoad, wrkPath } from './load.ts';

const dir = tempDir('b24-bench-same-');
const stack = await startStack({ env: { LOG_LEVEL: 'info' }, keepLog: false, dbPath: dir.file('app.db'), backend: 'sqlite' });
try {
  const portal = await stack.emu.createPortal();
  await stack.emu.install(portal.member_id);
  const token = sessionTokenOf(await (await stack.launch(await stack.emu.launch(portal.member_id, 2))).text())!;
  const auth = { authorization: `Bearer ${token}` };
  for (let i = 0; i < 50; i++) {
    const made = await fetch(`${stack.appUrl}/api/items`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `Item ${i}: quarterly planning — Квартальный план`, data: { notes: `Notes ${i}` } }),
    });
    if (made.status !== 201) throw new Error(`create failed: ${made.status}`);
  }

  const db = new Database(dir.file('app.db'), { readonly: true });
  const floorBytes = createFloors(db).bytes;
  const floorServer = Bun.serve({ hostname: '127.0.0.1', port: 0, development: false, fetch: floorBytes });
  const app = stack.server.app;
  const appUrl = `${stack.appUrl.replace('localhost', '127.0.0.1')}/api/items?limit=50`;
  const floorUrl = `http://127.0.0.1:${floorServer.port}/`;
  const same = await (await fetch(appUrl, { headers: auth })).text();
  if (same !== (await (await fetch(floorUrl, { headers: auth })).text())) throw new Error('the app and the floor disagree on the bytes');

  const direct = async (f: (r: Request) => Response | Promise<Response>): Promise<number> => {
    const request = () => new Request('http://127.0.0.1/api/items?limit=50', { headers: auth });
    for (let i = 0; i < 1000; i++) await (await f(request())).arrayBuffer();
    const n = 10_000;
    const t = performance.now();
    for (let i = 0; i < n; i++) await (await f(request())).arrayBuffer();
    return ((performance.now() - t) / n) * 1000;
  };
  console.log('round | HTTP app req/s | HTTP floor req/s | app/floor | direct app µs | direct floor µs | difference µs');
  for (let round = 1; round <= 3; round++) {
    const http = wrkPath()
      ? [await runLoad({ url: appUrl, headers: auth, connections: 32, seconds: 3 }), await runLoad({ url: floorUrl, headers: auth, connections: 32, seconds: 3 })]
      : null;
    const [appUs, floorUs] = [await direct((r) => app.handle(r)), await direct(floorBytes)];
    console.log(
      `${round}     | ${http ? Math.round(http[0]!.rps) : '(no wrk)'} | ${http ? Math.round(http[1]!.rps) : '-'} | ${http ? (http[0]!.rps / http[1]!.rps).toFixed(2) : '-'} | ` +
        `${appUs!.toFixed(1)} | ${floorUs!.toFixed(1)} | ${(appUs! - floorUs!).toFixed(1)}`,
    );
  }
  floorServer.stop(true);
  db.close();
} finally {
  await stack.stop();
  dir.cleanup();
}
