/**
 * Signing in outside the frame: Bitrix24's OAuth code flow, without HTTP (src/http/oauth.ts carries it).
 *
 * `begin` starts only at a Bitrix24 cloud domain (BITRIX24_PORTAL_DOMAINS) or a portal the app knows
 * (no open redirect), and stores a one-time state hashed together with a secret that only the
 * starting browser holds (its cookie), for 10 minutes, bounded in number. `finish` consumes that
 * state once, for that browser only (a callback URL sent to someone else signs nobody in), asks only
 * an allow-listed token server, and verifies the token like a launch. Every refusal is the same null:
 * an attacker learns nothing about which check failed.
 */
import type { Bitrix } from '../bitrix/index.ts';
import { isBitrixError } from '../bitrix/index.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { AppError } from '../domain/errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { createAttemptLimiter, type AttemptLimiter } from './attempt-limiter.ts';
import { domainMatches, normalizeDomain } from './portal-domain.ts';
import { randomToken, sha256Hex } from './secrets.ts';
import type { SignedIn, SignIn } from './sign-in.ts';

/** Seconds a started sign-in may take. */
export const STATE_TTL = 600;
/** Sign-ins started and not finished within STATE_TTL; beyond this, starting one answers 429. */
const MAX_PENDING_STATES = 10_000;

export interface OAuthCallback {
  state?: string;
  code?: string;
  domain?: string;
  member_id?: string;
  server_domain?: string;
}

export interface OAuthSignInDeps {
  config: Pick<Config, 'clientId' | 'publicUrl' | 'portalDomains' | 'oauthServers'>;
  store: Pick<Store, 'oauthStates' | 'portals'>;
  bitrix: Bitrix;
  signIn: SignIn;
  /** The failed-attempt limiter shared with launches: a code exchange costs a round trip too. */
  attempts: AttemptLimiter;
  /** Sign-ins started per client (each stores a state); default one in this process's memory. */
  starts?: AttemptLimiter;
  clock: Clock;
  logger: Logger;
}

export function createOAuthSignIn(deps: OAuthSignInDeps) {
  const { config, store, clock } = deps;
  // Portals speak https; plain http only when the configured OAuth server is the local emulator.
  const portalScheme = config.oauthServers.some((s) => s.startsWith('http:')) ? 'http' : 'https';
  const stateHash = (state: string, browser: string) => sha256Hex(`${state}.${browser}`);
  // Each start stores a state: an anonymous client gets a burst of them, then one every few seconds.
  const starts = deps.starts ?? createAttemptLimiter();

  const mayStartAt = async (domain: string) =>
    domainMatches(domain, config.portalDomains) || (await store.portals.findByDomain(domain)) !== null;

  return {
    /** Where to send the browser, and the secret its cookie keeps; null when the domain is refused. */
    async begin(rawDomain: string, client: string): Promise<{ location: string; browser: string } | null> {
      const domain = normalizeDomain(rawDomain.replace(/^https?:\/\//, '').replace(/\/.*$/, ''));
      if (!domain || !(await mayStartAt(domain))) return null;
      if (!(await starts.allows(client))) throw new AppError('rate_limited', 'Too many sign-ins started. Wait a minute and try again.');
      await starts.recordFailure(client);
      const state = randomToken();
      const browser = randomToken();
      const now = clock.now();
      if (!(await store.oauthStates.create(stateHash(state, browser), domain, now, now - STATE_TTL, MAX_PENDING_STATES))) {
        deps.logger.warn('oauth: too many pending sign-ins; refused a new one');
        throw new AppError('rate_limited', 'Too many sign-ins are in progress. Try again in a few minutes.');
      }
      const target = new URL(`${portalScheme}://${domain}/oauth/authorize/`);
      target.searchParams.set('client_id', config.clientId);
      target.searchParams.set('state', state);
      target.searchParams.set('redirect_uri', `${config.publicUrl}/auth/bitrix24`);
      return { location: target.toString(), browser };
    },

    /** The callback of the browser holding `browser`: signed in, or null for any refusal. */
    async finish(q: OAuthCallback, browser: string | null, client: string): Promise<SignedIn | null> {
      const state = q.state ?? '';
      if (!state || !browser || !q.code || !q.domain || !q.member_id || !q.server_domain) return null;
      const saved = await store.oauthStates.consume(stateHash(state, browser), clock.now() - STATE_TTL);
      if (!saved || saved.domain !== normalizeDomain(q.domain)) return null;
      const server = config.oauthServers.find((s) => new URL(s).host === q.server_domain);
      if (!server || !(await deps.attempts.allows(client))) return null;
      try {
        const grant = await deps.bitrix.oauth.exchangeCode(server, q.code);
        const verified = await deps.signIn.verifyLaunch(
          { authId: grant.tokens.accessToken, domain: saved.domain, memberId: q.member_id, serverEndpoint: server },
          client,
        );
        return await deps.signIn.signIn(verified, 'en', grant.tokens);
      } catch (e) {
        deps.logger.warn('oauth callback failed', { reason: (e as Error).name });
        if (isBitrixError(e)) await deps.attempts.recordFailure(client); // the verifier counts its own refusals
        return null;
      }
    },
  };
}

export type OAuthSignIn = ReturnType<typeof createOAuthSignIn>;
