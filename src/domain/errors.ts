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
  /** A marketplace app whose trial or paid period on the portal ended (Bitrix24's PAYMENT_REQUIRED). */
  | 'payment_required'
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
  payment_required: 402,
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

/**
 * A marketplace app whose trial or paid period on the portal ended (src/auth/billing.ts). Administrators
 * are told how to renew (`renewUrl`, the portal's Market), everyone else to ask one; `isAdmin` is null
 * while the launch has not said who the user is.
 */
export class SubscriptionExpired extends AppError {
  constructor(
    readonly isAdmin: boolean | null,
    /** Null when the portal's address is not a web link. */
    readonly renewUrl: string | null,
    /**
     * Who launched, as the OAuth server vouched, and when (for the user's admin flag when the portal would
     * not say, and as proof that the app is installed: it drops a pending uninstall claim).
     */
    readonly launchedBy?: { memberId: string; userId: number; verifiedAt: number },
  ) {
    super('payment_required', "The app's subscription on this portal has expired; a portal administrator can renew it.");
  }
}
