/** Core records of the app, shared by the store, the Bitrix24 client and the HTTP layer. Times are unix seconds. */

export type PortalStatus = 'pending' | 'installed' | 'uninstalled';

export interface Portal {
  id: number;
  memberId: string;
  domain: string;
  clientEndpoint: string;
  serverEndpoint: string;
  status: PortalStatus;
  /** Bitrix24's app status letter (L, F, D, T, P, S) as the OAuth server reported it. */
  appStatus: string;
  scope: string;
  /** Whether an application_token is on record (its hash is never handed out). */
  hasApplicationToken: boolean;
  installedAt: number | null;
  uninstalledAt: number | null;
  /** Bitrix24's `ts` of the last install/uninstall event that changed the portal: older ones are replays. */
  lifecycleTs: number | null;
  /** An uninstall Bitrix24 has not confirmed yet (see src/auth/portal-uninstall.ts). */
  uninstallClaim: UninstallClaim | null;
  /** When the rows of this closed portal are deleted (a confirmed uninstall with CLEAN=1); null: kept. */
  purgeAt: number | null;
  /** When its event bindings were last compared with what the app needs (unix seconds); null: never. */
  bindingsCheckedAt: number | null;
}

export interface UninstallClaim {
  /** Unix seconds when the event arrived. */
  claimedAt: number;
  /** The event asked to delete the portal's data (CLEAN=1). */
  clean: boolean;
}

/** What is kept of a portal whose data a cleaning uninstall deleted. */
export interface RemovedPortal {
  memberId: string;
  applicationTokenHash: string | null;
  lifecycleTs: number | null;
  removedAt: number;
}

export interface PortalInput {
  memberId: string;
  domain: string;
  clientEndpoint: string;
  serverEndpoint: string;
  appStatus: string;
  scope: string;
}

/** Whose OAuth tokens: the app's (from the install) or one user's (from their launches). */
export type TokenOwner = { kind: 'app' } | { kind: 'user'; userId: number };

export interface OAuthTokens {
  accessToken: string;
  refreshToken: string;
  /** Unix seconds when the access token stops working. */
  expiresAt: number;
  scope: string;
}

/** What the OAuth server answered when it refused a refresh token, and when (unix seconds). */
export interface TokenRefusal {
  code: string;
  at: number;
}

export interface StoredTokens extends OAuthTokens {
  portalId: number;
  owner: TokenOwner;
  /** The Bitrix24 user the tokens act as. */
  userId: number;
  /** Bumped on every write; refreshes compare-and-swap on it. */
  version: number;
  /** The refresh token was refused (invalid_grant): a new launch or install is needed. */
  dead: boolean;
  /** The refusal that killed the row and when it came (unix seconds); null while alive or not known. */
  refusal: TokenRefusal | null;
  /** Unix seconds until which one process holds the right to refresh (null: nobody is refreshing). */
  refreshLeaseUntil: number | null;
  /** When this refresh token was issued (the pair written): Bitrix24 lets an unused one die after its lifetime. */
  issuedAt: number;
}

export interface User {
  portalId: number;
  userId: number;
  name: string;
  isAdmin: boolean;
  lang: string;
  photoUrl: string | null;
  timeZone: string | null;
  lastSeenAt: number;
}

export interface Session {
  portalId: number;
  userId: number;
  createdAt: number;
  expiresAt: number;
  /** Sliding expiry never goes past this. */
  absoluteExpiresAt: number;
  lastUsedAt: number;
  /** The app was removed from the portal: the session answers "not installed" until it expires. */
  closed?: boolean;
  /** The portal's member_id, read with a stored session (the access log names the portal by its hash). */
  memberId?: string;
}

export type ItemStatus = 'active' | 'archived';

export interface Item {
  id: string;
  portalId: number;
  ownerId: number;
  name: string;
  data: Record<string, unknown> | null;
  status: ItemStatus;
  startsAt: number | null;
  endsAt: number | null;
  calendarEventId: string | null;
  /** Whether its calendar event is in step: null (not in the calendar), synced, pending, failed. */
  calendarSync: 'synced' | 'pending' | 'failed' | null;
  createdAt: number;
  updatedAt: number;
  version: number;
}

/** Who is acting: every item query is scoped by both. */
export interface Actor {
  portalId: number;
  userId: number;
}
