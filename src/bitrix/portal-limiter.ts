/**
 * Limits per portal, keyed by the REST base's host: Bitrix24 counts per portal, and the host is what
 * identifies the portal both for stored clients and for launch checks with a token not yet stored.
 * One registry per `createBitrix`, so two instances in one process (tests) do not share state.
 */
import { createLeakyBucket, type LeakyBucket } from './leaky-bucket.ts';
import { createOperatingBudget, defaultOperatingOptions, type OperatingBudget, type OperatingOptions } from './operating-budget.ts';
import type { Limits } from './types.ts';

export interface PortalLimits {
  bucket: LeakyBucket;
  operating: OperatingBudget;
}

export interface PortalLimiter {
  forBase(restBase: string): PortalLimits;
  /** Per-portal override, e.g. `{ rate: 5, burst: 250 }` for Enterprise plans. */
  setLimits(restBase: string, limits: Limits): void;
}

export function createPortalLimiter(
  defaults: Limits,
  operatingOptions: OperatingOptions = defaultOperatingOptions,
  now: () => number = Date.now,
): PortalLimiter {
  const portals = new Map<string, PortalLimits>();
  const overrides = new Map<string, Limits>();

  const forBase = (restBase: string): PortalLimits => {
    const key = hostOf(restBase);
    let p = portals.get(key);
    if (!p) {
      p = {
        bucket: createLeakyBucket(withHeadroom(overrides.get(key) ?? defaults), now),
        operating: createOperatingBudget(operatingOptions, now),
      };
      portals.set(key, p);
    }
    return p;
  };

  return {
    forBase,
    setLimits(restBase, limits) {
      overrides.set(hostOf(restBase), limits);
      portals.get(hostOf(restBase))?.bucket.setLimits(withHeadroom(limits));
    },
  };
}

/**
 * One slot below the server's burst: our clock and the server's differ by the network's jitter, and
 * a request that arrives a little early must still fit. Costs one request of burst, nothing in rate.
 */
function withHeadroom(l: Limits): Limits {
  return { rate: l.rate, burst: Math.max(1, l.burst - 1) };
}

function hostOf(restBase: string): string {
  try {
    return new URL(restBase).host;
  } catch {
    return restBase;
  }
}
