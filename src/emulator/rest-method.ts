/** The contract between the REST dispatcher and the method implementations under methods/. */
import type { ChangeOrigin } from './event-bus.ts';
import type { PortalUser } from './portal-users.ts';
import type { Params } from './rest-request.ts';
import type { MethodOutcome, RestTime } from './rest-response.ts';
import type { TokenRecord } from './token-registry.ts';
import type { Installation, Portal, World } from './world.ts';

export interface CallContext {
  world: World;
  portal: Portal;
  install: Installation;
  token: TokenRecord;
  user: PortalUser;
  /** The Bitrix24 hit this call belongs to (a batch and its sub-calls share one). */
  hit: number;
  /** The request's `auth_connector` (source key, DOCS events/offline-events.md); '' when not given. */
  authConnector: string;
  /** Runs another method with the same auth (batch uses it); throws RestError on failure. */
  invoke(method: string, params: Params): Promise<{ outcome: MethodOutcome; time: RestTime }>;
}

export interface MethodSpec {
  /** The token needs one of these scopes; undefined means the always-granted basic scope. */
  scope?: string[];
  /** Methods that may not run inside a batch. */
  notInBatch?: boolean;
  handler(ctx: CallContext, params: Params): MethodOutcome | Promise<MethodOutcome>;
}

export type MethodTable = Record<string, MethodSpec>;

/** A change made by this REST call: its user, its hit, its app and `auth_connector`. */
export function originOf(ctx: CallContext): ChangeOrigin {
  return { userId: ctx.user.ID, hit: ctx.hit, clientId: ctx.install.app.client_id, authConnector: ctx.authConnector };
}

export const PAGE_SIZE = 50;

/** CORE's list navigation: `start` is an offset in pages of 50; -1 skips counting (no next, total 0). */
export function paginate<T>(rows: T[], start: unknown): { page: T[]; next?: number; total: number } {
  const n = Number.parseInt(String(start ?? '0'), 10);
  if (n === -1) return { page: rows.slice(0, PAGE_SIZE), total: 0 };
  const offset = Number.isFinite(n) && n > 0 ? n : 0;
  const page = rows.slice(offset, offset + PAGE_SIZE);
  const next = offset + PAGE_SIZE < rows.length ? offset + PAGE_SIZE : undefined;
  return next === undefined ? { page, total: rows.length } : { page, next, total: rows.length };
}
