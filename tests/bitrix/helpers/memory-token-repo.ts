/**
 * A TokenRepo in memory with the SQLite implementation's semantics (version bump on every write,
 * compare-and-swap on `version`, `markDead` only at the expected version), for unit tests of the
 * refresh logic without a database.
 */
import type { OAuthTokens, StoredTokens, TokenOwner, TokenRefusal } from '../../../src/domain/types.ts';
import type { TokenRepo } from '../../../src/store/store.ts';

const keyOf = (portalId: number, owner: TokenOwner) => `${portalId}:${owner.kind === 'app' ? 'app' : owner.userId}`;

export function createMemoryTokenRepo(): TokenRepo & { rows: Map<string, StoredTokens>; writes: number } {
  const rows = new Map<string, StoredTokens>();
  const repo = {
    rows,
    writes: 0,
    async find(portalId: number, owner: TokenOwner) {
      const r = rows.get(keyOf(portalId, owner));
      return r ? { ...r } : null;
    },
    async save(portalId: number, owner: TokenOwner, userId: number, tokens: OAuthTokens) {
      const prev = rows.get(keyOf(portalId, owner));
      const row: StoredTokens = { ...tokens, portalId, owner, userId, version: (prev?.version ?? 0) + 1, dead: false, refusal: null, refreshLeaseUntil: null, issuedAt: 0 };
      rows.set(keyOf(portalId, owner), row);
      repo.writes++;
      return { ...row };
    },
    async replaceIfVersion(portalId: number, owner: TokenOwner, expectedVersion: number, tokens: OAuthTokens) {
      const prev = rows.get(keyOf(portalId, owner));
      if (!prev || prev.version !== expectedVersion) return null;
      const row: StoredTokens = { ...prev, ...tokens, version: prev.version + 1, dead: false, refusal: null, refreshLeaseUntil: null };
      rows.set(keyOf(portalId, owner), row);
      repo.writes++;
      return { ...row };
    },
    async markDead(portalId: number, owner: TokenOwner, expectedVersion: number, refusal: TokenRefusal) {
      const prev = rows.get(keyOf(portalId, owner));
      if (prev && prev.version === expectedVersion) Object.assign(prev, { dead: true, refusal, refreshLeaseUntil: null });
    },
    async claimRefresh(portalId: number, owner: TokenOwner, expectedVersion: number, leaseUntil: number) {
      const prev = rows.get(keyOf(portalId, owner));
      if (!prev || prev.version !== expectedVersion) return null;
      const row: StoredTokens = { ...prev, refreshLeaseUntil: leaseUntil, version: prev.version + 1 };
      rows.set(keyOf(portalId, owner), row);
      repo.writes++;
      return { ...row };
    },
    async releaseRefresh(portalId: number, owner: TokenOwner, expectedVersion: number) {
      const prev = rows.get(keyOf(portalId, owner));
      if (prev && prev.version === expectedVersion) rows.set(keyOf(portalId, owner), { ...prev, refreshLeaseUntil: null, version: prev.version + 1 });
    },
    async listDormant() {
      return [];
    },
    async keyMatches() {
      return true;
    },
    async deleteForPortal(portalId: number) {
      for (const k of [...rows.keys()]) if (k.startsWith(`${portalId}:`)) rows.delete(k);
    },
  };
  return repo;
}
