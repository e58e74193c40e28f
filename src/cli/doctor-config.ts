/**
 * `b24app doctor`, the configuration: what `loadConfig` refuses, and what it accepts but a deployment
 * should not run with. Each check reads the variables it needs through config.ts's own parsers, so it
 * still runs when another variable is broken; none prints a secret, only why it is weak.
 */
import { ConfigError, loadConfig, parsers, type Config } from '../config.ts';
import type { CheckResult } from './doctor-check.ts';

type Env = Record<string, string | undefined>;

type ParsedValue<K extends keyof typeof parsers> = Extract<ReturnType<(typeof parsers)[K]>, { ok: true }>['value'];

/** A variable's value as `serve` would read it, or undefined when its parser refuses it. */
export function parsed<K extends keyof typeof parsers>(env: Env, name: K): ParsedValue<K> | undefined {
  const raw = env[name];
  const r = (parsers[name] as (raw?: string) => { ok: boolean; value?: unknown })(raw === undefined ? undefined : raw.trim());
  return r.ok ? (r.value as ParsedValue<K>) : undefined;
}

/** Placeholders as deploy/*.env.example and READMEs write them: never a real value. */
const PLACEHOLDER = /change[-_ ]?me|replace[-_ ]?me|placeholder|your[-_ ]?(app[-_ ]?)?secret|at-least-32/i;

/** `serve`'s own validation: one `fail` per problem it names (or one `ok`), and the Config when it loads. */
export function checkConfiguration(env: Env): { results: CheckResult[]; config: Config | null } {
  const placeholders = ['BITRIX24_CLIENT_ID', 'BITRIX24_CLIENT_SECRET', 'DATABASE_URL']
    .filter((name) => PLACEHOLDER.test(env[name] ?? ''))
    .map((name): CheckResult => ({ status: 'fail', name: 'configuration', detail: `${name} still holds a placeholder (CHANGE-ME…): fill in the real value` }));
  try {
    const config = loadConfig(env, 'serve');
    return { results: placeholders.length ? placeholders : [{ status: 'ok', name: 'configuration', detail: 'every variable serve reads is valid' }], config };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { results: [...e.problems.map((p): CheckResult => ({ status: 'fail', name: 'configuration', detail: p })), ...placeholders], config: null };
  }
}

/** Reached only from this machine (and from a browser on it): plain http is fine there. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::1';
}

/** An address or name only a private network resolves (RFC 1918, link-local, intranet names). */
function isPrivateHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return /^(10\.|192\.168\.|169\.254\.|172\.(1[6-9]|2\d|3[01])\.)/.test(h) || /\.(local|lan|internal|home\.arpa)$/.test(h) || (!h.includes('.') && !h.includes(':'));
}

export function checkPublicUrl(publicUrl: string): CheckResult {
  const url = new URL(publicUrl);
  const name = 'PUBLIC_URL';
  if (url.protocol === 'https:') return { status: 'ok', name, detail: `${publicUrl} (https)` };
  if (isLoopbackHost(url.hostname)) return { status: 'ok', name, detail: `${publicUrl} (plain http on loopback: development only)` };
  if (isPrivateHost(url.hostname)) {
    return { status: 'warn', name, detail: `${publicUrl} is plain http on a private network: tokens and events travel unencrypted; use https` };
  }
  return { status: 'fail', name, detail: `${publicUrl} is plain http on a public host: Bitrix24 sends tokens and events to it unencrypted; serve it over https (TLS at the proxy)` };
}

/** Longest run of characters that each follow the previous one (0123…, abcd…; 9→a counts, as in hex). */
function longestConsecutiveRun(s: string): number {
  let best = 1;
  let run = 1;
  for (let i = 1; i < s.length; i++) {
    const [a, b] = [s.charCodeAt(i - 1), s.charCodeAt(i)];
    run = b === a + 1 || (s[i - 1] === '9' && s[i] === 'a') ? run + 1 : 1;
    best = Math.max(best, run);
  }
  return best;
}

/** The shortest p such that `s` is its first p characters repeated (s.length when there is none). */
function repeatPeriod(s: string): number {
  for (let p = 1; p <= s.length / 2; p++) if (s === s.slice(0, p).repeat(Math.ceil(s.length / p)).slice(0, s.length)) return p;
  return s.length;
}

/** Bits of entropy the characters' frequencies suggest (Shannon, times the length): a rough upper bound. */
function estimatedBits(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) perChar -= (n / s.length) * Math.log2(n / s.length);
  return Math.round(perChar * s.length);
}

const HOW = 'generate one with `openssl rand -hex 32`';

/**
 * APP_SECRET signs sessions and derives the key of the stored tokens: a guessable one forges sessions.
 * Runs on a value config.ts already accepted (32+ characters).
 */
export function checkAppSecret(secret: string, clientSecret: string | undefined): CheckResult {
  const name = 'APP_SECRET';
  const fail = (why: string): CheckResult => ({ status: 'fail', name, detail: `${why}; ${HOW}` });
  if (PLACEHOLDER.test(secret)) return fail('is a placeholder (like the CHANGE-ME value of deploy/b24app.env.example)');
  if (clientSecret && secret === clientSecret) return fail('is the same as BITRIX24_CLIENT_SECRET');
  const period = repeatPeriod(secret);
  if (period < secret.length) return fail(`is ${period === 1 ? 'one character repeated' : `a ${period}-character pattern repeated`}`);
  const bits = estimatedBits(secret);
  if (bits < 64) return fail(`has low entropy (about ${bits} bits from ${new Set(secret).size} different characters)`);
  const run = longestConsecutiveRun(secret);
  if (run >= 8) return { status: 'warn', name, detail: `contains a run of ${run} consecutive characters (like 0123…), as typed-in example values do; ${HOW}` };
  if (bits < 100) return { status: 'warn', name, detail: `has low entropy (about ${bits} bits); ${HOW}` };
  return { status: 'ok', name, detail: `${secret.length} characters, about ${bits} bits of entropy` };
}

const CLOUD_OAUTH = 'https://oauth.bitrix.info';

/** BITRIX24_OAUTH_SERVERS: who may verify tokens. https only, except a loopback emulator in development. */
export function checkOAuthServers(servers: string[], publicUrl: string | undefined): CheckResult {
  const name = 'OAuth servers';
  const listed = servers.join(', ');
  const hostOf = (origin: string) => new URL(origin).hostname;
  const plainPublic = servers.filter((s) => s.startsWith('http:') && !isLoopbackHost(hostOf(s)));
  if (plainPublic.length) return { status: 'fail', name, detail: `${plainPublic.join(', ')}: plain http, tokens would travel unencrypted; list https origins only` };
  const development = publicUrl === undefined || isLoopbackHost(hostOf(publicUrl));
  const loopback = servers.filter((s) => s.startsWith('http:'));
  if (development) return { status: 'ok', name, detail: listed + (loopback.length === servers.length ? ' (loopback only: a development setup)' : '') };
  const notes: string[] = [];
  if (loopback.length) notes.push(`${loopback.join(', ')} is a local emulator: remove it in production`);
  if (!servers.includes(CLOUD_OAUTH)) notes.push(`${CLOUD_OAUTH} is not listed, so cloud portals cannot sign in (fine if every portal is self-hosted)`);
  return notes.length ? { status: 'warn', name, detail: `${listed}: ${notes.join('; ')}` } : { status: 'ok', name, detail: listed };
}

/**
 * TRUST_PROXY against the deployment's shape. b24app serves plain http, so an https PUBLIC_URL means a
 * proxy terminates TLS in front of it: untrusted, every client has the proxy's address (and one
 * client's failed sign-ins hold back all); trusted while the port is open to others, anyone who reaches
 * it directly picks their own address with X-Forwarded-For. In a container the app must listen on
 * 0.0.0.0 for the proxy to reach it, and whether the port is published cannot be seen from inside: the
 * line says what to make sure of, without a warning on every compose deployment (deploy/compose.yaml).
 */
export function checkTrustProxy(trustProxy: number, host: string, port: number, publicUrl: string, inContainer = false): CheckResult {
  const name = 'TRUST_PROXY';
  const url = new URL(publicUrl);
  const proxied = url.protocol === 'https:' && !isLoopbackHost(url.hostname);
  if (trustProxy === 0) {
    if (!proxied) return { status: 'ok', name, detail: 'off (PUBLIC_URL is not behind a TLS proxy)' };
    const where = isLoopbackHost(host) ? ` and the app listens on ${host} only` : '';
    return {
      status: 'warn',
      name,
      detail: `off, but PUBLIC_URL is https${where}: a proxy is in front, and every client looks like its address to the sign-in limiter; set TRUST_PROXY to the number of proxies (1 for nginx)`,
    };
  }
  const proxies = `${trustProxy} ${trustProxy === 1 ? 'proxy' : 'proxies'}`;
  if (!isLoopbackHost(host)) {
    const reach = `a client reaching ${host}:${port} directly, not through the proxy, forges X-Forwarded-For`;
    return inContainer
      ? { status: 'ok', name, detail: `trusts ${proxies}; in a container: make sure only the proxy reaches port ${port} (not published), or ${reach}` }
      : { status: 'warn', name, detail: `trusts ${proxies} while the app listens on ${host}:${port}: ${reach}; let only the proxy reach it, or HOST=127.0.0.1` };
  }
  return { status: 'ok', name, detail: `trusts ${proxies}; the app listens on ${host} only` };
}
