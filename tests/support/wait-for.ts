/**
 * The one way a test waits for something to happen: poll an observable condition (an emulator stats
 * counter, a database row, a request the app sink recorded, a browser frame) until it holds. The
 * timeout is generous on purpose: it only decides when a test that will never pass gives up, never
 * whether a slow but correct run passes, so a busy CI machine cannot make a test fail.
 *
 * The deadline runs on `performance.now()`, so it keeps running while a test has frozen `Date.now()`
 * with bun:test's `setSystemTime`.
 */

export interface WaitOptions {
  /** Overall limit in ms (default 10 s); exceeding it fails with `what` in the message. */
  timeoutMs?: number;
  /** Pause between probes in ms (default 10). */
  intervalMs?: number;
  /** What is awaited, for the failure message. */
  what?: string;
}

type Falsy = undefined | null | false | 0 | '';

/**
 * Resolves with the probe's first truthy answer. A probe that throws fails at once (it is an
 * assertion that must hold on every round, not a "not yet").
 */
export async function waitFor<T>(probe: () => T | Falsy | Promise<T | Falsy>, opts: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 10, what = 'a condition' } = opts;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as T;
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(intervalMs);
  }
}
