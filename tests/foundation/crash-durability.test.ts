/**
 * A 201 is a promise: once `POST /api/items` answered it, the item survives the process dying in
 * the worst way. `b24app serve` runs as a child process on a real SQLite file; twenty writers create
 * items concurrently; the server gets SIGKILL while they are still writing (no shutdown hook, no
 * checkpoint), is started again on the same file, and must list every acknowledged item.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { startChildStack, type ChildStack } from '../support/child-server.ts';

const WRITERS = 20;
/** The kill comes once this many creates were acknowledged, so it lands mid-load, not after it. */
const KILL_AFTER_ACKS = 300;

let stack: ChildStack;
let token: string;
beforeAll(async () => {
  stack = await startChildStack();
  token = await stack.signIn(1);
});
afterAll(() => stack.stop());

const auth = () => ({ authorization: `Bearer ${token}` });

async function listAll(base: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let cursor: string | null = null;
  do {
    const url: string = `${base}/api/items?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await fetch(url, { headers: auth() });
    if (res.status !== 200) throw new Error(`GET /api/items -> ${res.status}`);
    const page = (await res.json()) as { items: { id: string; name: string }[]; next_cursor: string | null };
    for (const item of page.items) found.set(item.id, item.name);
    cursor = page.next_cursor;
  } while (cursor);
  return found;
}

describe('kill -9 during concurrent writes', () => {
  it('keeps every item whose create was acknowledged with 201', async () => {
    const acknowledged = new Map<string, string>();
    let interrupted = 0;
    let killed!: () => void;
    const killTime = new Promise<void>((r) => (killed = r));

    const writer = async (w: number) => {
      // Writes until the server dies under it: every writer is mid-request or about to be at the kill.
      for (let i = 0; ; i++) {
        const name = `writer ${w} item ${i}`;
        try {
          const res = await fetch(`${stack.server.url}/api/items`, {
            method: 'POST',
            headers: { ...auth(), 'content-type': 'application/json' },
            body: JSON.stringify({ name, data: { writer: w, seq: i } }),
          });
          if (res.status !== 201) throw new Error(`create answered ${res.status}`);
          acknowledged.set(((await res.json()) as { id: string }).id, name);
          if (acknowledged.size >= KILL_AFTER_ACKS) killed();
        } catch {
          // The connection died with the server: this create was never acknowledged.
          interrupted++;
          return;
        }
      }
    };
    const writers = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    await killTime;
    await stack.server.kill9();
    await writers;

    await stack.restart();
    const present = await listAll(stack.server.url);
    const missing = [...acknowledged].filter(([id, name]) => present.get(id) !== name).map(([id, name]) => `${id} (${name})`);
    console.log(`kill -9: ${acknowledged.size} creates acknowledged, ${interrupted} writers cut off, ${present.size} items after restart, ${missing.length} missing`);
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(missing).toEqual([]);
  }, 120_000);
});
