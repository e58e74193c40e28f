/**
 * The part of a job lock both backends share: take the lock, renew it while the job runs (a third of
 * the TTL apart, so a live holder never loses it), release it when the job ends, even if it threw.
 */
import type { ExclusiveRun } from './store.ts';

export interface LockStatements {
  /** True when the lock was free (or expired) and is now `holder`'s until the database's now + ttlMs. */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  renew(name: string, holder: string, ttlMs: number): Promise<void>;
  release(name: string, holder: string): Promise<void>;
}

export async function runUnderLock<T>(s: LockStatements, name: string, ttlSec: number, fn: () => Promise<T>): Promise<ExclusiveRun<T>> {
  const holder = crypto.randomUUID();
  const ttlMs = Math.max(1, Math.round(ttlSec * 1000));
  if (!(await s.acquire(name, holder, ttlMs))) return { ran: false };
  const timer = setInterval(() => void s.renew(name, holder, ttlMs).catch(() => undefined), Math.max(50, ttlMs / 3));
  timer.unref?.();
  try {
    return { ran: true, value: await fn() };
  } finally {
    clearInterval(timer);
    await s.release(name, holder).catch(() => undefined); // it expires anyway
  }
}
