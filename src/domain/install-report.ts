/**
 * What the app knows about its install on a portal, as plain values: the admin panel renders them
 * (views/admin-panel.tsx) and src/auth/install-health.ts, portal-install.ts and billing.ts produce them
 * (docs/install-health.md).
 */
import type { QueueDepth } from './item-port.ts';
import type { Portal } from './types.ts';

/** What the admin page says about the app's own tokens on a portal. */
export interface AppTokenHealth {
  state: 'live' | 'needs_reauthorization';
  /** When the stored refresh token was issued; null when none is stored. */
  issuedAt: number | null;
  /** When Bitrix24 lets it die unused. */
  refreshExpiresAt: number | null;
  /** When the health job renews it if nothing uses it before. */
  renewAt: number | null;
}

/** Everything the admin page shows about the app on one portal. */
export interface InstallReport {
  domain: string;
  status: Portal['status'];
  installedAt: number | null;
  appTokens: AppTokenHealth;
  bindings: BindingsReport;
  /** The calendar queue: the outbox (item changes to write) and the inbox (portal changes to apply). */
  calendarQueue: QueueDepth;
  /** Requests the portal's REST bucket counts now, of its burst, draining at `rate` per second. */
  restBudget: { level: number; burst: number; rate: number };
  /** The OAuth server's app status letter (L local, F free, D demo, T trial, P paid, S subscription). */
  appStatus: string;
  /** Marketplace apps: the subscription as app.info last said (a launch reads it); null: not known. */
  subscription: Subscription | null;
}

/**
 * The portal's bindings against what the app needs: each needed binding and whether it is there (after
 * a repair: whether it is there now), and what the repair bound. `error`: event.get could not be read
 * (the code), so nothing is known and nothing was bound.
 */
export type BindingsReport =
  | { ok: true; bindings: (NeededBinding & { present: boolean })[]; bound: NeededBinding[] }
  | { ok: false; error: string };

/** One event binding the app needs: online (Bitrix24 calls PUBLIC_URL/events) or offline (queued on the portal). */
export interface NeededBinding {
  event: string;
  offline: boolean;
}

/** A marketplace app's subscription on a portal, as `app.info` reports it. */
export interface Subscription {
  /** app.info STATUS: L, F, D, T, P or S. */
  status: string;
  paymentExpired: boolean;
  /** Days left of the paid or trial period; null when Bitrix24 gives none. */
  days: number | null;
  /** The app's code in the Bitrix24 Market (app.info CODE), for the renewal link; '' when unknown. */
  code: string;
}
