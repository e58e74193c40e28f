/**
 * The one error type the app raises on purpose. Each code maps to an HTTP status in one place
 * (src/http/errors.ts); the message is safe to show to the caller. Anything that is not an
 * AppError is a bug and is shown as an opaque 500 with a request id.
 */
import type { Item } from './types.ts';

export type ErrorCode =
  | 'invalid'
  | 'unauthorized'
  /** The app was removed from the portal: no launch or session until a verified install. */
  | 'not_installed'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'rate_limited'
  | 'upstream'
  | 'unavailable'
  | 'internal';

export const statusOf: Record<ErrorCode, number> = {
  invalid: 400,
  unauthorized: 401,
  not_installed: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  rate_limited: 429,
  upstream: 502,
  unavailable: 503,
  internal: 500,
};

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra, safe-to-show details (per-field messages, the current version of an item). */
    readonly details?: { fields?: Record<string, string>; current?: unknown },
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return statusOf[this.code];
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** A save that lost a race: `item` is what is stored now, which the caller shows beside its own. */
export class ItemConflict extends AppError {
  constructor(readonly item: Item) {
    super('conflict', 'The item was changed meanwhile.', { current: item });
  }
}
