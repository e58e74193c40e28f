import { describe, expect, it } from 'bun:test';
import { createAttemptLimiter, createSharedAttemptLimiter, type SharedAttemptLevels } from '../../src/auth/attempt-limiter.ts';
import { forEachBackend } from '../store/backends.ts';

describe('attempt limiter', () => {
  it('allows a burst of failures, then one more per drain interval, per key', async () => {
    let clock = 0;
    const limiter = createAttemptLimiter({ burst: 3, ratePerSec: 0.5 }, () => clock);
    for (let i = 0; i < 3; i++) {
      expect(await limiter.allows('a')).toBe(true);
      await limiter.recordFailure('a');
    }
    expect(await limiter.allows('a')).toBe(false);
    expect(await limiter.allows('b')).toBe(true);
    clock += 1.9;
    expect(await limiter.allows('a')).toBe(false);
    clock += 0.2; // one failure drained (2 s at 0.5/s)
    expect(await limiter.allows('a')).toBe(true);
  });

  it('keeps at most maxKeys keys, forgetting the oldest', async () => {
    const limiter = createAttemptLimiter({ burst: 1, ratePerSec: 0.001, maxKeys: 2 }, () => 0);
    for (const k of ['x', 'y', 'z']) await limiter.recordFailure(k);
    expect(await limiter.allows('x')).toBe(true); // evicted
    expect(await limiter.allows('z')).toBe(false);
  });

  it('shared: counts in memory alone while the store fails, and says so once', async () => {
    const broken: SharedAttemptLevels = {
      add: () => Promise.reject(new Error('down')),
      level: () => Promise.reject(new Error('down')),
      sweep: () => Promise.reject(new Error('down')),
    };
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m) } as never;
    const limiter = createSharedAttemptLimiter(broken, { burst: 2, ratePerSec: 0.001, prefix: 'launch:' }, logger, () => 0);
    await limiter.recordFailure('a');
    expect(await limiter.allows('a')).toBe(true);
    await limiter.recordFailure('a');
    expect(await limiter.allows('a')).toBe(false);
    expect(await limiter.allows('b')).toBe(true);
    expect(warnings).toHaveLength(1);
  });
});

forEachBackend('shared attempt limiter', (backend) => {
  it('two instances count one client together: failures on A use up the burst on B; others unaffected', async () => {
    const db = await backend.freshDb();
    const [a, b] = await Promise.all([db.open(), db.open()]);
    const opts = { burst: 3, ratePerSec: 0.001, prefix: 'launch:' };
    const onA = createSharedAttemptLimiter(a.leakyBuckets, opts);
    const onB = createSharedAttemptLimiter(b.leakyBuckets, opts);
    await onA.recordFailure('10.0.0.1');
    await onB.recordFailure('10.0.0.1');
    expect(await onA.allows('10.0.0.1')).toBe(true);
    await onA.recordFailure('10.0.0.1');
    expect(await onB.allows('10.0.0.1')).toBe(false);
    expect(await onA.allows('10.0.0.1')).toBe(false);
    expect(await onB.allows('10.0.0.2')).toBe(true);
    expect(await db.count('leaky_buckets', "key = 'launch:10.0.0.1'")).toBe(1);
  });

  it('drains at the rate: a client is allowed again once one failure has drained', async () => {
    const db = await backend.freshDb();
    const store = await db.open();
    const limiter = createSharedAttemptLimiter(store.leakyBuckets, { burst: 2, ratePerSec: 10, prefix: 'launch:' });
    await limiter.recordFailure('c');
    await limiter.recordFailure('c');
    expect(await limiter.allows('c')).toBe(false);
    await Bun.sleep(150);
    expect(await limiter.allows('c')).toBe(true);
  });

  it('bounds its rows: an anonymous client with ever new addresses leaves at most maxKeys, the newest', async () => {
    const db = await backend.freshDb();
    const store = await db.open();
    const limiter = createSharedAttemptLimiter(store.leakyBuckets, { burst: 5, ratePerSec: 0.001, maxKeys: 10, sweepEvery: 5, prefix: 'launch:' });
    await store.leakyBuckets.add('rest:p1', 1, 1);
    for (let i = 0; i < 40; i++) {
      await limiter.recordFailure(`10.1.0.${i}`);
      await Bun.sleep(2); // distinct at_ms, so "oldest" is well defined
    }
    await limiter.sweep();
    expect(await db.count('leaky_buckets', "key LIKE 'launch:%'")).toBe(10);
    expect(await db.count('leaky_buckets', "key = 'launch:10.1.0.39'")).toBe(1);
    expect(await db.count('leaky_buckets', "key = 'launch:10.1.0.0'")).toBe(0);
    expect(await db.count('leaky_buckets', "key = 'rest:p1'")).toBe(1);
  });
});
