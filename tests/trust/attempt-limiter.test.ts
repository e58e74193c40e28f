import { describe, expect, it } from 'bun:test';
import { createAttemptLimiter } from '../../src/auth/attempt-limiter.ts';

describe('attempt limiter', () => {
  it('allows a burst of failures, then one more per drain interval, per key', () => {
    let clock = 0;
    const limiter = createAttemptLimiter({ burst: 3, ratePerSec: 0.5 }, () => clock);
    for (let i = 0; i < 3; i++) {
      expect(limiter.allows('a')).toBe(true);
      limiter.recordFailure('a');
    }
    expect(limiter.allows('a')).toBe(false);
    expect(limiter.allows('b')).toBe(true);
    clock += 1.9;
    expect(limiter.allows('a')).toBe(false);
    clock += 0.2; // one failure drained (2 s at 0.5/s)
    expect(limiter.allows('a')).toBe(true);
  });

  it('keeps at most maxKeys keys, forgetting the oldest', () => {
    const limiter = createAttemptLimiter({ burst: 1, ratePerSec: 0.001, maxKeys: 2 }, () => 0);
    for (const k of ['x', 'y', 'z']) limiter.recordFailure(k);
    expect(limiter.allows('x')).toBe(true); // evicted
    expect(limiter.allows('z')).toBe(false);
  });
});
