/**
 * Limits per portal, keyed by the REST base's host: Bitrix24 counts per portal, and the host is what
 * identifies the portal both for stored clients and for launch checks with a token not yet stored.
 * One registry per `createBitrix`, so two instances in one process (tests) do not share state.
 */
import { createLeakyBucket, type LeakyBucket, type SendSlots } from './leaky-bucket.ts';
import { createOperatingBudget, createSharedOperatingBudget, defaultOperatingOptions, type OperatingBudget, type SharedFigures, type OperatingOptions } from './operating-budget.ts';
import { createSharedBucket, type SharedLevels } from './shared-bucket.ts';
import type { Limits } from './types.ts';
import type { Logger } from '../log.ts';

export interface PortalLimits<B extends SendSlots = SendSlots> {
  bucket: B;
  operating: OperatingBudget;
}

export interface PortalLimiter<B extends SendSlots = SendSlots> {
  forBase(restBase: string): PortalLimits<B>;
  /** Per-portal override, e.g. `{ rate: 5, burst: 250 }` for Enterprise plans. */
  setLimits(restBase: string, limits: Limits): void;
  /** How full the portal's bucket is now (shared across instances when the levels are), and its limits. */
  usage(restBase: string): Promise<{ level: number; limits: Limits }>;
}

/**
 * Without `shared`, each portal's bucket is this process's own (one instance). With it, the bucket's
 * level is the one every instance shares (shared-bucket.ts), keyed `rest:<host>`, and so are the
 * operating-time figures per method (`op:<host>:<method>`, operating-budget.ts) when the levels can be read.
 */
export function createPortalLimiter(defaults: Limits, operatingOptions?: OperatingOptions, now?: () => number): PortalLimiter<LeakyBucket>;
export function createPortalLimiter(
  defaults: Limits,
  operatingOptions: OperatingOptions | undefined,
  now: (() => number) | undefined,
  shared: { levels: SharedLevels; logger?: Logger } | undefined,
): PortalLimiter;
export function createPortalLimiter(
  defaults: Limits,
  operatingOptions: OperatingOptions = defaultOperatingOptions,
  now: () => number = Date.now,
  shared?: { levels: SharedLevels; logger?: Logger },
): PortalLimiter {
  const portals = new Map<string, PortalLimits>();
  const overrides = new Map<string, Limits>();

  const forBase = (restBase: string): PortalLimits => {
    const key = hostOf(restBase);
    let p = portals.get(key);
    if (!p) {
      const own = createLeakyBucket(withHeadroom(overrides.get(key) ?? defaults), now);
      const operating = createOperatingBudget(operatingOptions, now);
      p = {
        bucket: shared ? createSharedBucket(`rest:${key}`, shared.levels, own, shared.logger) : own,
        operating: shared?.levels.level ? createSharedOperatingBudget(`op:${key}`, shared.levels as SharedFigures, operating, operatingOptions, now) : operating,
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
    async usage(restBase) {
      const key = hostOf(restBase);
      const limits = overrides.get(key) ?? defaults;
      if (shared?.levels.level) {
        try {
          return { level: await shared.levels.level(`rest:${key}`, limits.rate), limits };
        } catch {
          // The store is unavailable: this process's own count is the best there is.
        }
      }
      const own = portals.get(key)?.bucket;
      return { level: own && 'level' in own ? (own as LeakyBucket).level() : 0, limits };
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
