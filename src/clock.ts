/**
 * The one source of "now". Everything that reads the time takes a Clock from what builds it
 * (createApp, openStore, createLogger), so tests move time instead of waiting for it. Durations
 * (how long a request took, how full a leaky bucket is) use the monotonic performance.now().
 */
export interface Clock {
  /** Unix time in whole seconds: what the store and the tokens keep. */
  now(): number;
  /** Unix time in milliseconds: item ids and log lines. */
  nowMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  now: () => Math.floor(Date.now() / 1000),
};

/** A clock read from a seconds function (a test's movable time). */
export const clockFromSeconds = (seconds: () => number): Clock => ({ now: seconds, nowMs: () => seconds() * 1000 });
