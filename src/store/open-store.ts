/** Picks the Store implementation for DATABASE_URL. */
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { openPostgresStore } from './postgres/open-store.ts';
import { redactUrl, SchemaTooNewError } from './postgres/database.ts';
import { openSqliteStore } from './sqlite/open-store.ts';
import type { Store, TokenCipher } from './store.ts';

export class StoreOpenError extends Error {}

/** The PostgreSQL pool's settings (DATABASE_POOL_MAX, DATABASE_STATEMENT_TIMEOUT_MS). */
export type PoolSettings = Pick<Config, 'databasePoolMax' | 'databaseStatementTimeoutMs'>;

export async function openStore(database: Config['database'], cipher: TokenCipher, clock?: Clock, pool?: PoolSettings): Promise<Store> {
  if (database.kind === 'postgres') {
    try {
      return await openPostgresStore(database.url, {
        cipher,
        clock,
        poolMax: pool?.databasePoolMax,
        statementTimeoutMs: pool?.databaseStatementTimeoutMs,
      });
    } catch (e) {
      throw new StoreOpenError(`DATABASE_URL ${describePostgresFailure(database.url, e)}`);
    }
  }
  try {
    return await openSqliteStore(database.path, { cipher, clock });
  } catch (e) {
    throw new StoreOpenError(`DATABASE_URL cannot open sqlite:${database.path}: ${(e as Error).message}`);
  }
}

/** One line that names what went wrong, without the password. */
export function describePostgresFailure(url: string, e: unknown): string {
  const where = redactUrl(url);
  const err = e as { message?: string; code?: string; errno?: string };
  if (e instanceof SchemaTooNewError) return `${where}: ${err.message}`;
  const message = (err.message ?? String(e)).split('\n')[0];
  const code = err.code && err.code !== 'ERR_POSTGRES_SERVER_ERROR' ? ` (${err.code})` : '';
  if (/^migration /.test(message ?? '')) return `${where}: ${message}`;
  return `cannot connect to PostgreSQL at ${where}: ${message}${code}`;
}
