/**
 * The client one portal+owner pair talks through: stored (encrypted) tokens, the portal's stored
 * `client_endpoint` as the only base URL, and the shared limits, refresh and retry machinery of the
 * `createBitrix` instance it came from.
 */
import { BitrixError, LocalCode } from './bitrix-error.ts';
import { runBatch, runIndependentBatch } from './batch-runner.ts';
import type { EndpointPolicy } from './endpoint-policy.ts';
import { listRows, pullAll, type ListCaller } from './list-pager.ts';
import { isReadMethod, isValidMethodName } from './method-kind.ts';
import type { RequestRunner, TokenSource } from './request-runner.ts';
import type { TokenKeeper } from './token-keeper.ts';
import type { BatchCommand, BatchOptions, BatchOutcome, ListOptions, RestParams, RestResult } from './types.ts';
import type { Portal, StoredTokens, TokenOwner } from '../domain/types.ts';

export interface RestClient {
  call<T = unknown>(method: string, params?: RestParams): Promise<RestResult<T>>;
  /** Any number of commands; an array gives an array of outcomes, a keyed record a keyed record. */
  batch<T = unknown>(commands: readonly BatchCommand[], opts?: BatchOptions): Promise<BatchOutcome<T>[]>;
  batch<T = unknown>(commands: Record<string, BatchCommand>, opts?: BatchOptions): Promise<Record<string, BatchOutcome<T>>>;
  /** Every row of a list method, page by page (see list-pager.ts for the two modes). */
  list<T = unknown>(method: string, params?: RestParams, opts?: ListOptions): AsyncGenerator<T>;
  /** The whole list, the remaining pages fetched 50 per batch request. */
  listAll<T = unknown>(method: string, params?: RestParams): Promise<T[]>;
}

export interface ClientContext {
  policy: EndpointPolicy;
  runner: RequestRunner;
  keeper: TokenKeeper;
  /** Where a portal moved to (302), by its old REST base. */
  movedBase(base: string): string;
}

export interface ClientOptions {
  /** Retries after a limit or a transient fault (default: the policy's). 0: one attempt, for callers that ask again later. */
  maxRetries?: number;
}

export function createRestClient(ctx: ClientContext, portal: Portal, owner: TokenOwner, options: ClientOptions = {}): RestClient {
  const tokenSource = (): TokenSource => {
    let held: StoredTokens | null = null;
    return {
      async token() {
        held = await ctx.keeper.current(portal, owner);
        return held.accessToken;
      },
      async renew() {
        held = held ? await ctx.keeper.renew(portal, owner, held) : await ctx.keeper.current(portal, owner);
        return held.accessToken;
      },
    };
  };

  const send = <T>(method: string, params: RestParams, safeToRepeat: boolean): Promise<RestResult<T>> => {
    if (!isValidMethodName(method)) return Promise.reject(new BitrixError(LocalCode.endpointRefused, 'not a method name', 0, 'invalid'));
    let base: string;
    try {
      base = ctx.movedBase(ctx.policy.portalBase(portal.clientEndpoint, portal.serverEndpoint));
    } catch (e) {
      return Promise.reject(e);
    }
    return ctx.runner.run<T>(base, method, params, tokenSource(), { safeToRepeat, ...options });
  };

  const call = <T>(method: string, params: RestParams = {}) => send<T>(method, params, isReadMethod(method));

  const batchOutcomes = async (commands: Record<string, BatchCommand> | readonly BatchCommand[], opts?: BatchOptions) =>
    runBatch((params, safe) => send('batch', params, safe), commands, opts);

  const lister: ListCaller = {
    call,
    independentBatch: (commands) => runIndependentBatch((params, safe) => send('batch', params, safe), commands),
  };

  async function batch(commands: Record<string, BatchCommand> | readonly BatchCommand[], opts?: BatchOptions) {
    const byKey = await batchOutcomes(commands, opts);
    if (Array.isArray(commands)) return commands.map((_, i) => byKey.get(String(i)));
    return Object.fromEntries(byKey);
  }

  return {
    call,
    batch: batch as RestClient['batch'],
    list: (method, params = {}, opts) => listRows(lister, method, params, opts),
    listAll: (method, params = {}) => pullAll(lister, method, params),
  };
}
