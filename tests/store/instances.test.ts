/**
 * Several instances on one database (architecture §5): two Stores opened over the same database stand
 * for two `b24app serve` processes. A job lock lets one of them run a job; a shared leaky bucket counts
 * both instances' requests as one.
 */
import { expect, it } from 'bun:test';
import { once } from '../../src/cli/serve.ts';
import { forEachBackend } from './backends.ts';

forEachBackend('several instances', (backend) => {
  it('a job lock runs the job on one instance only while it runs; free again afterwards', async () => {
    const db = await backend.freshDb();
    const [a, b] = await Promise.all([db.open(), db.open()]);
    let runs = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = a.jobLocks.tryRunExclusive('lifecycle jobs', 60, async () => {
      runs++;
      await held;
      return 'a';
    });
    await Bun.sleep(50);
    expect(await b.jobLocks.tryRunExclusive('lifecycle jobs', 60, async () => ++runs)).toEqual({ ran: false });
    expect(await a.jobLocks.tryRunExclusive('lifecycle jobs', 60, async () => ++runs)).toEqual({ ran: false });
    // Another job's name is another lock.
    expect(await b.jobLocks.tryRunExclusive('offline events', 60, async () => 'other')).toEqual({ ran: true, value: 'other' });
    release();
    expect(await first).toEqual({ ran: true, value: 'a' });
    expect(runs).toBe(1);
    expect(await b.jobLocks.tryRunExclusive('lifecycle jobs', 60, async () => 'b')).toEqual({ ran: true, value: 'b' });
    expect(await db.count('job_locks')).toBe(0);
  });

  it('of many instances trying at once, exactly one runs the job', async () => {
    const db = await backend.freshDb();
    const stores = await Promise.all([db.open(), db.open(), db.open()]);
    let runs = 0;
    const outcomes = await Promise.all(
      stores.flatMap((s) =>
        Array.from({ length: 4 }, () =>
          s.jobLocks.tryRunExclusive('offline events', 60, async () => {
            runs++;
            await Bun.sleep(200);
            return runs;
          }),
        ),
      ),
    );
    expect(outcomes.filter((o) => o.ran)).toHaveLength(1);
    expect(runs).toBe(1);
  });

  it('a job that throws releases the lock; an abandoned lock is taken over once it expires', async () => {
    const db = await backend.freshDb();
    const [a, b] = await Promise.all([db.open(), db.open()]);
    await expect(a.jobLocks.tryRunExclusive('j', 60, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await b.jobLocks.tryRunExclusive('j', 60, async () => 1)).toEqual({ ran: true, value: 1 });
    // A crashed instance's lock: still valid, then expired.
    await db.exec("INSERT INTO job_locks (name, holder, until_ms) VALUES ('k', 'dead', 99999999999999)");
    expect(await b.jobLocks.tryRunExclusive('k', 60, async () => 1)).toEqual({ ran: false });
    await db.exec("UPDATE job_locks SET until_ms = 1000 WHERE name = 'k'");
    expect(await b.jobLocks.tryRunExclusive('k', 60, async () => 2)).toEqual({ ran: true, value: 2 });
  });

  it('a job longer than its lock keeps it: the holder renews it while it runs', async () => {
    const db = await backend.freshDb();
    const [a, b] = await Promise.all([db.open(), db.open()]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = a.jobLocks.tryRunExclusive('long', 0.3, () => held);
    await Bun.sleep(800); // more than twice the TTL
    expect(await b.jobLocks.tryRunExclusive('long', 0.3, async () => 1)).toEqual({ ran: false });
    release();
    expect((await first).ran).toBe(true);
  });

  it("serve's periodic jobs go through the lock: two instances' timers firing together run the job once", async () => {
    const db = await backend.freshDb();
    const [a, b] = await Promise.all([db.open(), db.open()]);
    let runs = 0;
    const job = async () => {
      runs++;
      await Bun.sleep(100);
      return { checked: 1 };
    };
    const outcomes = await Promise.all([once(a, 'lifecycle jobs', job)(), once(b, 'lifecycle jobs', job)()]);
    expect(runs).toBe(1);
    expect(outcomes).toContainEqual({ checked: 1 });
    expect(outcomes).toContainEqual({ skipped: true });
  });

  it('a shared leaky bucket adds up both instances, drains at the given rate, and floors at a fill', async () => {
    const db = await backend.freshDb();
    const [a, b] = await Promise.all([db.open(), db.open()]);
    expect(await a.leakyBuckets.level('rest:p1', 2)).toBe(0);
    expect(await a.leakyBuckets.add('rest:p1', 0.001, 1)).toBeCloseTo(1, 2);
    expect(await b.leakyBuckets.add('rest:p1', 0.001, 1)).toBeCloseTo(2, 2);
    const levels = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).leakyBuckets.add('rest:p1', 0.001, 1)));
    // Atomic: every add saw the one before it, whichever instance made it.
    expect(levels.map(Math.round).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 3));
    expect(await a.leakyBuckets.add('rest:p2', 0.001, 0, 50)).toBe(50);
    expect(await b.leakyBuckets.level('rest:p2', 0.001)).toBeCloseTo(50, 1);
    // Draining: 10 per second.
    await a.leakyBuckets.add('rest:p3', 10, 5);
    await Bun.sleep(300);
    const drained = await b.leakyBuckets.level('rest:p3', 10);
    expect(drained).toBeLessThan(2.5);
    expect(drained).toBeGreaterThanOrEqual(0);
  });

  it('sweeps idle rows and bounds the rows under a prefix, leaving other prefixes alone', async () => {
    const db = await backend.freshDb();
    const store = await db.open();
    for (let i = 0; i < 5; i++) await store.leakyBuckets.add(`launch:10.0.0.${i}`, 1, 1);
    await store.leakyBuckets.add('rest:p1', 1, 1);
    await db.exec("UPDATE leaky_buckets SET at_ms = 1000 WHERE key = 'launch:10.0.0.0'");
    expect(await store.leakyBuckets.sweep('launch:', 3600, 100)).toBe(1);
    expect(await store.leakyBuckets.sweep('launch:', 3600, 2)).toBe(2);
    expect(await db.count('leaky_buckets', "key LIKE 'launch:%'")).toBe(2);
    expect(await db.count('leaky_buckets', "key = 'rest:p1'")).toBe(1);
  });
});
