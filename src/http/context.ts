/**
 * What route modules receive: built once in createApp from its dependencies, never imported as a
 * module-level singleton.
 */
import type { Bitrix } from '../bitrix/index.ts';
import type { AttemptLimiter } from '../auth/attempt-limiter.ts';
import type { VerifyLaunchFrom } from '../auth/limited-verifier.ts';
import type { Sessions } from '../auth/sessions.ts';
import type { SignIn } from '../auth/sign-in.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { PageAssets } from '../../views/layout.tsx';
import type { Assets } from './assets.ts';

export interface RouteContext {
  config: Config;
  store: Store;
  logger: Logger;
  bitrix: Bitrix;
  sessions: Sessions;
  /** Failed attempts per client address, shared by every route that costs an OAuth round trip. */
  attempts: AttemptLimiter;
  /** Launch verification for a client (its address keys the failed-attempt limiter). */
  verifyLaunch: VerifyLaunchFrom;
  signIn: SignIn;
  assets: Assets;
  /** The app's own origin (from PUBLIC_URL), for CSRF checks. */
  appOrigin: string;
  /** BASE_PATH-prefixed absolute path for a route, e.g. url('/api/items'). */
  url(path: string): string;
  /** Scripts and styles for a page; `frame` pages also load BX24 and the island. */
  pageAssets(frame: boolean): PageAssets;
}

export function sessionCookie(ctx: RouteContext, token: string, maxAge: number, partitioned: boolean): string {
  const secure = ctx.config.publicUrl.startsWith('https:') || new URL(ctx.config.publicUrl).hostname === 'localhost';
  // In the Bitrix24 frame the cookie is third-party: SameSite=None + Partitioned (CHIPS). Nothing depends on it.
  const site = partitioned ? 'SameSite=None; Partitioned' : 'SameSite=Lax';
  return `b24app_session=${token}; Path=${ctx.url('/')}; Max-Age=${maxAge}; HttpOnly; ${secure ? 'Secure; ' : ''}${site}`;
}
