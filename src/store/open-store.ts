/** Picks the Store implementation for DATABASE_URL. */
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { TokenCipher } from './store.ts';
import { openSqliteStore } from './sqlite/open-store.ts';
import type { Store } from './store.ts';

export class StoreOpenError extends Error {}

export async function openStore(database: Config['database'], cipher: TokenCipher, clock?: Clock): Promise<Store> {
  if (database.kind === 'postgres') {
    throw new StoreOpenError('DATABASE_URL postgres:// is not supported by this build yet; use sqlite:PATH');
  }
  try {
    return await openSqliteStore(database.path, { cipher, clock });
  } catch (e) {
    throw new StoreOpenError(`DATABASE_URL cannot open sqlite:${database.path}: ${(e as Error).message}`);
  }
}
