/**
 * The emulated world's time: real time plus an offset that only grows (`POST /_emulator/clock`), so a
 * test can let months pass in a second. Every date the emulator hands out or checks comes from here:
 * token and code expiry, refresh-token lifetimes, event `ts`, offline records, calendar stamps, the
 * `time` block's dates, billing days, log lines. This is the one place that reads the system clock.
 *
 * What models a rate rather than a date keeps real time (`realTime`): the leaky bucket and the
 * operating limit, and the durations that feed it. Moving the world forward must not make a request
 * look as if it ran for a month, and `operating_reset_at` must stay a moment the app can wait for.
 */
export interface Clock {
  /** Unix milliseconds on the emulator's clock. */
  now(): number;
  /** Unix seconds on the emulator's clock. */
  nowSeconds(): number;
  /** Moves the world forward; never backward (tokens that died stay dead). */
  advance(seconds: number): void;
  /** How far ahead of real time the world is, in seconds. */
  offsetSeconds(): number;
}

/** Real time, for what models rates (the leaky bucket, the operating limit), not dates. */
export function realTime(): number {
  return Date.now();
}

export function createClock(): Clock {
  let offsetMs = 0;
  const now = () => realTime() + offsetMs;
  return {
    now,
    nowSeconds: () => Math.floor(now() / 1000),
    advance(seconds) {
      if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError('the clock only moves forward');
      offsetMs += seconds * 1000;
    },
    offsetSeconds: () => Math.floor(offsetMs / 1000),
  };
}
