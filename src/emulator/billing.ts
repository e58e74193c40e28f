/**
 * What an app's subscription looks like on one portal (DOCS api-reference/common/system/app-info.md;
 * CORE rest/lib/app.php getAppStatusInfo). Each portal keeps its own per app, set through
 * `POST /_emulator/portals/:member_id/billing`, so two portals of one app can differ; it outlives a
 * reinstall, as a purchase on that portal would.
 *
 * - STATUS: L local, F free, D demo, T trial, P paid, S subscription (Market+).
 * - DAYS: days left in the paid or trial period, as set; it counts down by one for every full day the
 *   emulator's clock moves on. null: no period.
 * - PAYMENT_EXPIRED: Y when set so, or once DAYS has gone below zero on a status that has a period
 *   (CORE: `DAYS_LEFT < 0`).
 * - Lapsed: PAYMENT_EXPIRED=Y on D, T, P or S. The OAuth server then issues no tokens and the portal
 *   refuses REST calls with PAYMENT_REQUIRED, except `app.info` (see portal-rest.ts, oauth-endpoints.ts),
 *   and the app's event handlers are skipped (CORE rest/lib/event/callback.php). L and F never lapse.
 *   CORE keeps a paid app running for 14 days of grace after expiry; the emulator refuses at once, the
 *   stricter choice.
 */
import type { AppRecord, AppStatus, Billing, Portal, World } from './world.ts';

export const APP_STATUSES: readonly AppStatus[] = ['L', 'F', 'D', 'T', 'P', 'S'];

/** Statuses without a paid or trial period: never gated. */
const WITHOUT_PERIOD = new Set<AppStatus>(['L', 'F']);

const DAY_MS = 86_400_000;

/** What `app.info` and the control API report. */
export interface BillingState {
  status: AppStatus;
  paymentExpired: boolean;
  days: number | null;
}

function stored(world: World, portal: Portal, app: AppRecord): Billing {
  return portal.billing.get(app.client_id) ?? { status: app.status, paymentExpired: false, days: null, daysSetAtMs: world.clock.now() };
}

/** The app's billing on this portal now. */
export function billingOf(world: World, portal: Portal, app: AppRecord): BillingState {
  const b = stored(world, portal, app);
  const days = b.days === null ? null : b.days - Math.floor((world.clock.now() - b.daysSetAtMs) / DAY_MS);
  const ranOut = !WITHOUT_PERIOD.has(b.status) && days !== null && days < 0;
  return { status: b.status, paymentExpired: b.paymentExpired || ranOut, days };
}

/** A paid, trial, demo or subscription app whose period is over: tokens and REST are refused. */
export function paymentLapsed(world: World, portal: Portal, app: AppRecord): boolean {
  const state = billingOf(world, portal, app);
  return state.paymentExpired && !WITHOUT_PERIOD.has(state.status);
}

export function billingView(state: BillingState) {
  return { status: state.status, payment_expired: state.paymentExpired ? 'Y' : 'N', days: state.days };
}

type Change = { ok: true; apply: (current: Billing) => Billing } | { ok: false; error: string };

function readExpired(value: unknown): boolean | undefined | 'invalid' {
  if (value === undefined) return undefined;
  if (value === true || value === 'Y' || value === 'true') return true;
  if (value === false || value === 'N' || value === 'false') return false;
  return 'invalid';
}

function readDays(value: unknown): number | null | undefined | 'invalid' {
  if (value === undefined) return undefined;
  if (value === null) return null;
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : 'invalid';
}

/** Reads `{status?, payment_expired?, days?}`; fields left out keep their value. */
export function parseBillingChange(body: Record<string, unknown>, nowMs: number): Change {
  const status = body.status;
  if (status !== undefined && !APP_STATUSES.includes(status as AppStatus)) {
    return { ok: false, error: `status must be one of ${APP_STATUSES.join(', ')}` };
  }
  const expired = readExpired(body.payment_expired);
  if (expired === 'invalid') return { ok: false, error: 'payment_expired must be "Y", "N", true or false' };
  const days = readDays(body.days);
  if (days === 'invalid') return { ok: false, error: 'days must be an integer (or null)' };
  return {
    ok: true,
    apply: (current) => ({
      status: (status as AppStatus | undefined) ?? current.status,
      paymentExpired: expired ?? current.paymentExpired,
      ...(days === undefined ? { days: current.days, daysSetAtMs: current.daysSetAtMs } : { days, daysSetAtMs: nowMs }),
    }),
  };
}

/** Stores a change for this app on this portal and answers the state it leads to. */
export function setBilling(world: World, portal: Portal, app: AppRecord, apply: (current: Billing) => Billing): BillingState {
  portal.billing.set(app.client_id, apply(stored(world, portal, app)));
  return billingOf(world, portal, app);
}
