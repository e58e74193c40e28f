/**
 * The storage port. Everything outside src/store/ talks to data through this interface only, so the
 * SQLite default and the PostgreSQL backend are interchangeable. All methods are async for that reason.
 *
 * Contracts every implementation keeps:
 * - item methods take the Actor and filter on portal AND owner; a row of someone else is "not found";
 * - OAuth tokens are encrypted before they reach a column and decrypted on the way out;
 * - session ids and application tokens are stored only as hashes (callers pass hashes);
 * - deleting a portal's data removes every row that belongs to it.
 */
import type {
  OAuthTokens,
  Portal,
  PortalInput,
  RemovedPortal,
  Session,
  StoredTokens,
  TokenOwner,
  TokenRefusal,
  User,
} from '../domain/types.ts';

export interface PortalRepo {
  findByMemberId(memberId: string): Promise<Portal | null>;
  findById(id: number): Promise<Portal | null>;
  /** The portal the app knows at this domain (any status), for starting a sign-in there. */
  findByDomain(domain: string): Promise<Portal | null>;
  /**
   * Creates the portal with `statusIfNew`, or refreshes an existing one's endpoints and scope. Never
   * changes an existing portal's status or application token: only the lifecycle methods below do.
   */
  upsert(input: PortalInput, statusIfNew?: Portal['status']): Promise<Portal>;
  /**
   * A launch, in one statement: creates the portal as `pending` or refreshes its endpoints and scope.
   * Null, and nothing written, when the portal is closed: `uninstalled`, or removed with its data.
   */
  recordLaunch(input: PortalInput): Promise<Portal | null>;
  /**
   * A verified install: `installed`, the application_token's hash (kept when null), the install event's
   * `ts` (null for an installer launch); clears an uninstall claim and a scheduled purge, deletes the
   * sessions closed by an earlier uninstall, and forgets an earlier removal of the same member_id.
   */
  markInstalled(portalId: number, applicationTokenHash: string | null, lifecycleTs: number | null): Promise<Portal>;
  /** The stored hash for constant-time comparison by the caller. */
  applicationTokenHash(memberId: string): Promise<string | null>;
  /**
   * A confirmed uninstall, in one transaction: an open portal becomes `uninstalled`, its tokens are
   * deleted and its sessions closed (they answer "not installed" until they expire), the claim cleared, `ts` recorded, and its rows scheduled for deletion at
   * `purgeAt` (null: kept; also kept while a CLEAN=0 claim is pending on the row, whatever the caller read).
   * False, and nothing changed, when it was closed already.
   */
  closeAfterUninstall(portalId: number, lifecycleTs: number | null, purgeAt: number | null): Promise<boolean>;
  /** Keeps a closed portal's data: drops its scheduled purge. False when none was scheduled. */
  cancelPurge(portalId: number): Promise<boolean>;
  /** Closed portals whose purge time has come. */
  listDuePurges(now: number): Promise<Portal[]>;
  /** Records an unconfirmed uninstall: the first claim's time is kept, and CLEAN only if every claim asked for it. */
  claimUninstall(portalId: number, clean: boolean, claimedAt: number): Promise<void>;
  dropUninstallClaim(portalId: number): Promise<void>;
  listUninstallClaims(): Promise<Portal[]>;
  /** Installed portals with an id above `afterId`, by id, at most `limit` (for jobs over every portal). */
  listInstalled(afterId: number, limit: number): Promise<Portal[]>;
  /**
   * Installed portals whose bindings were last checked before `checkedBefore` (or never), oldest check
   * first, among those whose stored app access token is live until after `tokenLiveAfter`: a check
   * must not be what refreshes a token (Bitrix24 asks apps not to refresh on a timer).
   */
  listBindingsDue(checkedBefore: number, tokenLiveAfter: number, limit: number): Promise<Portal[]>;
  markBindingsChecked(portalId: number, at: number): Promise<void>;
  /** A renamed portal (Bitrix24 answered 302): its REST endpoint and domain move, its identity stays. */
  moveEndpoint(oldClientEndpoint: string, newClientEndpoint: string, newDomain: string): Promise<void>;
  /**
   * Deletes the portal and, by cascade, every row that belongs to it, keeping only a `RemovedPortal`
   * record, in one transaction.
   */
  removeWithData(portalId: number, removedAt: number): Promise<void>;
  findRemoved(memberId: string): Promise<RemovedPortal | null>;
}

export interface TokenRepo {
  find(portalId: number, owner: TokenOwner): Promise<StoredTokens | null>;
  /** Writes a fresh pair (install, launch, code exchange): unconditional, bumps the version, clears `dead`. */
  save(portalId: number, owner: TokenOwner, userId: number, tokens: OAuthTokens): Promise<StoredTokens>;
  /** Compare-and-swap after a refresh: writes only if the row is still at `expectedVersion`. */
  replaceIfVersion(
    portalId: number,
    owner: TokenOwner,
    expectedVersion: number,
    tokens: OAuthTokens,
  ): Promise<StoredTokens | null>;
  /** The refresh token was refused (`refusal`: the answer); flags the row unless someone already replaced it. */
  markDead(portalId: number, owner: TokenOwner, expectedVersion: number, refusal: TokenRefusal): Promise<void>;
  /**
   * Takes the right to refresh, across processes: sets the lease (and bumps the version) only if the
   * row is still at `expectedVersion`. Null when another writer got there first. Every write of new
   * tokens (`save`, `replaceIfVersion`) and `markDead` clears the lease.
   */
  claimRefresh(portalId: number, owner: TokenOwner, expectedVersion: number, leaseUntil: number): Promise<StoredTokens | null>;
  /** Gives the lease back, unchanged tokens, after a refresh that failed without an answer. */
  releaseRefresh(portalId: number, owner: TokenOwner, expectedVersion: number): Promise<void>;
  deleteForPortal(portalId: number): Promise<void>;
  /**
   * Live token rows of installed portals whose refresh token was issued before `issuedBefore`, oldest
   * first: the app's, and users' whose tokens background work needs (they have items in the calendar).
   * `after`: only rows past that one in this order (the renewal job walks on, so rows it could not renew
   * do not hold the head of the list for ever).
   */
  listDormant(issuedBefore: number, limit: number, after?: DormantCursor): Promise<DormantRow[]>;
  /** False when a stored token cannot be decrypted: APP_SECRET is not the key the tokens were sealed with. */
  keyMatches(): Promise<boolean>;
}

/** A place in listDormant's order: the row's refresh token issue time and its id. */
export interface DormantCursor {
  issuedAt: number;
  id: number;
}

export interface DormantRow {
  portalId: number;
  owner: TokenOwner;
  cursor: DormantCursor;
}

export interface UserInput {
  name: string;
  isAdmin: boolean;
  lang: string;
  photoUrl: string | null;
  timeZone: string | null;
}

export interface UserRepo {
  upsert(portalId: number, userId: number, input: UserInput): Promise<User>;
  find(portalId: number, userId: number): Promise<User | null>;
}

export interface SessionRepo {
  /** Stores a session and keeps only the user's `keepPerUser` newest ones (a token cannot mint without bound). */
  create(idHash: string, session: Session, keepPerUser: number): Promise<void>;
  find(idHash: string): Promise<Session | null>;
  /** Slides the expiry (callers rate-limit these writes). */
  touch(idHash: string, lastUsedAt: number, expiresAt: number): Promise<void>;
  delete(idHash: string): Promise<void>;
  deleteForPortal(portalId: number): Promise<void>;
  deleteExpired(now: number): Promise<number>;
}

// The item port is the domain's (it says what it needs); the store implements it.
export type { CalendarJob, CalendarQueue, CalendarWork, ItemCursor, ItemInput, ItemQuery, ItemRepo, UpdateResult } from '../domain/item-port.ts';
import type { CalendarQueue, ItemRepo } from '../domain/item-port.ts';

/**
 * How OAuth tokens are sealed before they reach a column (the "encrypted at rest" contract above);
 * src/auth/secrets.ts implements it with AES-256-GCM under a key derived from APP_SECRET.
 */
export interface TokenCipher {
  encrypt(plaintext: string): string;
  /** Throws when the ciphertext was not made under this key or was altered. */
  decrypt(stored: string): string;
}

export interface OAuthStateRepo {
  /**
   * Stores a state after sweeping those created before `notBefore`; false (nothing stored) when
   * `maxPending` states are still pending: anonymous requests create these, so they are bounded.
   */
  create(nonceHash: string, domain: string, createdAt: number, notBefore: number, maxPending: number): Promise<boolean>;
  /** Deletes and returns the state if it existed and is younger than `notBefore` allows: single use. */
  consume(nonceHash: string, notBefore: number): Promise<{ domain: string } | null>;
}

/** What a job run under a lock returns: its value, or that another instance held the lock. */
export type ExclusiveRun<T> = { ran: true; value: T } | { ran: false };

/**
 * Periodic jobs that must run once across every instance sharing the database: a lock row per job
 * name with an expiry on the database's clock (an instance that dies holding it loses it after
 * `ttlSec`), renewed while the job runs and released when it ends.
 */
export interface JobLockRepo {
  /** Runs `fn` if no other instance holds `name` (else does not, and says so). */
  tryRunExclusive<T>(name: string, ttlSec: number, fn: () => Promise<T>): Promise<ExclusiveRun<T>>;
}

/**
 * Leaky buckets every instance shares (the REST budget per portal, failed launches per client): a row
 * per key, its level drained at the caller's rate since the last change, on the database's clock, in
 * one atomic statement, so N instances count as one.
 */
export interface LeakyBucketRepo {
  /**
   * Drains `key`'s level at `ratePerSec` to now, adds `add`, raises it to `atLeast` (a server that
   * says the bucket is full), stores it and returns it. A new key starts empty.
   */
  add(key: string, ratePerSec: number, add: number, atLeast?: number): Promise<number>;
  /** The drained level now, without writing (0 for an unknown key). */
  level(key: string, ratePerSec: number): Promise<number>;
  /**
   * Bounds the rows under `prefix`: deletes those untouched for `idleSec`, then all but the
   * `maxRows` most recently touched. Returns how many went.
   */
  sweep(prefix: string, idleSec: number, maxRows: number): Promise<number>;
}

export interface Readiness {
  ok: boolean;
  detail: string;
}

export interface Store {
  readonly portals: PortalRepo;
  readonly tokens: TokenRepo;
  readonly users: UserRepo;
  readonly sessions: SessionRepo;
  readonly items: ItemRepo;
  readonly calendarQueue: CalendarQueue;
  readonly oauthStates: OAuthStateRepo;
  readonly jobLocks: JobLockRepo;
  readonly leakyBuckets: LeakyBucketRepo;
  /** Store reachable and every migration applied. */
  readiness(): Promise<Readiness>;
  close(): Promise<void>;
}
