import type { Database } from 'bun:sqlite';
import type { OAuthStateRepo } from '../store.ts';

export function createOAuthStateRepo(db: Database): OAuthStateRepo {
  const insert = db.query('INSERT INTO oauth_states (nonce_hash, domain, created_at) VALUES (?, ?, ?)');
  // DELETE ... RETURNING makes "check and use" one atomic step: a state works once.
  const consume = db.query<{ domain: string; created_at: number }, [string]>(
    'DELETE FROM oauth_states WHERE nonce_hash = ? RETURNING domain, created_at',
  );
  const sweep = db.query('DELETE FROM oauth_states WHERE created_at < ?');
  const pending = db.query<{ n: number }, []>('SELECT count(*) AS n FROM oauth_states');
  const create = db.transaction((nonceHash: string, domain: string, createdAt: number, notBefore: number, maxPending: number) => {
    sweep.run(notBefore);
    if (pending.get()!.n >= maxPending) return false;
    insert.run(nonceHash, domain, createdAt);
    return true;
  });
  return {
    create: async (nonceHash, domain, createdAt, notBefore, maxPending) => create(nonceHash, domain, createdAt, notBefore, maxPending),
    consume: async (nonceHash, notBefore) => {
      sweep.run(notBefore);
      const r = consume.get(nonceHash);
      return r && r.created_at >= notBefore ? { domain: r.domain } : null;
    },
  };
}
