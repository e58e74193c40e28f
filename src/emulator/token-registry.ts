/**
 * What the OAuth server knows: authorization codes (30 s, single use) and token pairs. Refresh tokens are
 * single-use: a completed refresh kills the refresh token used and the access token issued with it
 * (TRAINING 20134), so two racing refreshes of one chain leave exactly one winner. A refresh token left
 * unused dies `refreshLifetimeDays` after it was issued (DOCS settings/oauth/auto-renewal.md: 180 days);
 * using it issues a fresh pair with a fresh lifetime. Every expiry is on the emulator's clock.
 */
import type { Clock } from './clock.ts';
import { createTokenString, randomHex } from './ids.ts';

export interface TokenGrant {
  client_id: string;
  member_id: string;
  /** The installation the token was issued for: a reinstall does not revive its tokens. */
  installation_id: string;
  user_id: number;
  scope: string[];
}

export interface TokenRecord extends TokenGrant {
  access_token: string;
  refresh_token: string;
  /** When the access token expires, unix milliseconds on the emulator's clock. */
  expiresAt: number;
  /** When the refresh token dies unless used first, unix milliseconds on the emulator's clock. */
  refreshExpiresAt: number;
  accessRevoked: boolean;
  refreshUsed: boolean;
}

export type AccessCheck = { ok: true; token: TokenRecord } | { ok: false; reason: 'unknown' | 'expired' | 'revoked' };

const CODE_TTL_MS = 30_000;

export interface TokenRegistry {
  issue(grant: TokenGrant): TokenRecord;
  checkAccess(accessToken: string): AccessCheck;
  /** The record behind an access token whatever its state (the OAuth server still knows dead tokens). */
  peek(accessToken: string): TokenRecord | undefined;
  peekRefresh(refreshToken: string): TokenRecord | undefined;
  /** Whether `rotate` would accept this record's refresh token now (unused, within its lifetime). */
  refreshLive(record: TokenRecord): boolean;
  /** Returns the new pair, or undefined when the refresh token is unknown, already used or past its lifetime. */
  rotate(refreshToken: string, clientId: string): TokenRecord | undefined;
  expire(filter: { member_id?: string; access_token?: string; user_id?: number }): number;
  /** Uninstall: every token of that app on that portal stops working. */
  revokeInstallation(memberId: string, clientId: string): void;
  issueCode(grant: TokenGrant): string;
  takeCode(code: string, clientId: string): TokenGrant | undefined;
}

export interface TokenLifetimes {
  /** Access tokens, in seconds (3600). */
  accessSeconds: number;
  /** Refresh tokens left unused, in days (180). */
  refreshDays: number;
}

export function createTokenRegistry(clock: Clock, lifetimes: TokenLifetimes): TokenRegistry {
  const byAccess = new Map<string, TokenRecord>();
  const byRefresh = new Map<string, TokenRecord>();
  const codes = new Map<string, TokenGrant & { expiresAt: number }>();

  const issue = (grant: TokenGrant): TokenRecord => {
    const record: TokenRecord = {
      ...grant,
      scope: [...grant.scope],
      access_token: createTokenString(),
      refresh_token: createTokenString(),
      expiresAt: clock.now() + lifetimes.accessSeconds * 1000,
      refreshExpiresAt: clock.now() + lifetimes.refreshDays * 86_400_000,
      accessRevoked: false,
      refreshUsed: false,
    };
    byAccess.set(record.access_token, record);
    byRefresh.set(record.refresh_token, record);
    return record;
  };

  return {
    issue,
    checkAccess(accessToken) {
      const token = byAccess.get(accessToken);
      if (!token) return { ok: false, reason: 'unknown' };
      if (token.accessRevoked) return { ok: false, reason: 'revoked' };
      if (token.expiresAt <= clock.now()) return { ok: false, reason: 'expired' };
      return { ok: true, token };
    },
    peek(accessToken) {
      return byAccess.get(accessToken);
    },
    peekRefresh(refreshToken) {
      return byRefresh.get(refreshToken);
    },
    refreshLive(record) {
      return !record.refreshUsed && record.refreshExpiresAt > clock.now();
    },
    rotate(refreshToken, clientId) {
      const old = byRefresh.get(refreshToken);
      if (!old || old.refreshUsed || old.client_id !== clientId || old.refreshExpiresAt <= clock.now()) return undefined;
      old.refreshUsed = true;
      old.accessRevoked = true;
      return issue(old);
    },
    expire(filter) {
      let count = 0;
      for (const t of byAccess.values()) {
        if (filter.member_id && t.member_id !== filter.member_id) continue;
        if (filter.access_token && t.access_token !== filter.access_token) continue;
        if (filter.user_id !== undefined && t.user_id !== filter.user_id) continue;
        if (t.expiresAt > clock.now()) count++;
        t.expiresAt = Math.min(t.expiresAt, clock.now() - 1000);
      }
      return count;
    },
    revokeInstallation(memberId, clientId) {
      for (const t of byAccess.values()) {
        if (t.member_id !== memberId || t.client_id !== clientId) continue;
        t.accessRevoked = true;
        t.refreshUsed = true;
      }
      for (const [code, grant] of codes) {
        if (grant.member_id === memberId && grant.client_id === clientId) codes.delete(code);
      }
    },
    issueCode(grant) {
      const code = randomHex(35);
      codes.set(code, { ...grant, expiresAt: clock.now() + CODE_TTL_MS });
      return code;
    },
    takeCode(code, clientId) {
      const grant = codes.get(code);
      codes.delete(code);
      if (!grant || grant.expiresAt <= clock.now() || grant.client_id !== clientId) return undefined;
      const { expiresAt: _expiresAt, ...rest } = grant;
      return rest;
    },
  };
}
