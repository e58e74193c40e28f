/**
 * Environment -> one typed, validated Config (architecture §3; the variable names are a contract).
 * Each variable has one parser that either returns its value or names the problem; loadConfig
 * reports every bad variable, one line each, and the result is checked against the TypeBox schema.
 */
import { isIP } from 'node:net';
import { t, type Static } from 'elysia';
import { Value } from '@sinclair/typebox/value';

export const ConfigSchema = t.Object({
  port: t.Integer({ minimum: 0, maximum: 65535 }),
  host: t.String({ minLength: 1 }),
  publicUrl: t.String({ pattern: '^https?://' }),
  basePath: t.String({ pattern: '^(/[^/]+)*$' }),
  clientId: t.String(),
  clientSecret: t.String(),
  oauthServers: t.Array(t.String({ pattern: '^https?://[^/]+$' }), { minItems: 1 }),
  database: t.Union([
    t.Object({ kind: t.Literal('sqlite'), path: t.String({ minLength: 1 }) }),
    t.Object({ kind: t.Literal('postgres'), url: t.String({ minLength: 1 }) }),
  ]),
  /** PostgreSQL: connections in this instance's pool. */
  databasePoolMax: t.Integer({ minimum: 1, maximum: 1000 }),
  /** PostgreSQL: the longest a statement may run, in milliseconds (0: no limit). */
  databaseStatementTimeoutMs: t.Integer({ minimum: 0 }),
  appSecret: t.String(),
  bx24SdkUrl: t.String({ minLength: 1 }),
  /** Proxies in front of the app whose X-Forwarded-For entries are trusted (0: none). */
  trustProxy: t.Integer({ minimum: 0, maximum: 10 }),
  logLevel: t.Union([t.Literal('debug'), t.Literal('info'), t.Literal('warn'), t.Literal('error')]),
  /** JSON lines (serve's default) or human lines (dev's default). */
  logFormat: t.Union([t.Literal('json'), t.Literal('pretty')]),
  /** Who may read /metrics besides loopback: addresses or CIDR ranges. */
  metricsAllow: t.Array(t.String()),
  /** A bearer token that also admits to /metrics ('' for none). */
  metricsToken: t.String(),
  uninstallGraceDays: t.Number({ minimum: 0, maximum: 365 }),
  cleanUninstallDelayMinutes: t.Number({ minimum: 0, maximum: 43_200 }),
  itemsPerUserMax: t.Integer({ minimum: 1 }),
  /** Seconds a linked item's calendar update waits, so that quick edits in a row are one write. */
  calendarWriteDelaySeconds: t.Integer({ minimum: 0, maximum: 3600 }),
  /** How long Bitrix24 keeps an unused refresh token alive (its docs say 180 days; older texts 28). */
  refreshTokenLifetimeDays: t.Integer({ minimum: 1, maximum: 3650 }),
  /** The share of that lifetime (percent) after which an unused token is renewed by the health job. */
  tokenRenewAtPercent: t.Integer({ minimum: 10, maximum: 90 }),
  portalDomains: t.Array(t.String({ pattern: '^\\.[a-z0-9.-]+$' })),
});
export type Config = Static<typeof ConfigSchema>;

export type ConfigMode = 'serve' | 'dev' | 'migrate' | 'backup';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;
type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (problem: string): Parsed<never> => ({ ok: false, problem });

function parseUrl(raw: string, what: string): Parsed<URL> {
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return bad(`${what} must be an http(s) URL, got "${raw}"`);
    return ok(u);
  } catch {
    return bad(`${what} must be an absolute URL, got "${raw}"`);
  }
}

const trimSlash = (p: string) => p.replace(/\/+$/, '');

/** Bitrix24 cloud portals live under these; self-hosted portals are added by the operator. */
const CLOUD_PORTAL_DOMAINS = [
  'bitrix24.ru', 'bitrix24.com', 'bitrix24.de', 'bitrix24.eu', 'bitrix24.es', 'bitrix24.fr', 'bitrix24.it', 'bitrix24.pl',
  'bitrix24.uk', 'bitrix24.ua', 'bitrix24.by', 'bitrix24.kz', 'bitrix24.uz', 'bitrix24.com.br', 'bitrix24.com.tr', 'bitrix24.in',
  'bitrix24.cn', 'bitrix24.jp', 'bitrix24.id', 'bitrix24.vn', 'bitrix24.co',
].map((d) => `.${d}`).join(',');

export const parsers = {
  PORT: (raw = '3000') =>
    /^\d+$/.test(raw) && Number(raw) <= 65535 ? ok(Number(raw)) : bad(`must be a port number 0-65535, got "${raw}"`),
  HOST: (raw = '0.0.0.0') => (raw.trim() ? ok(raw.trim()) : bad('must not be empty')),
  PUBLIC_URL: (raw = 'http://localhost:3000') => {
    const u = parseUrl(raw, 'must be');
    if (!u.ok) return u;
    if (u.value.search || u.value.hash) return bad('must not carry a query or fragment');
    return ok(trimSlash(u.value.origin + u.value.pathname));
  },
  BASE_PATH: (raw: string) =>
    raw === '' || raw === '/' || /^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+\/?$/.test(raw)
      ? ok(trimSlash(raw))
      : bad(`must be a path like /my-app, got "${raw}"`),
  BITRIX24_CLIENT_ID: (raw = '') =>
    /^[A-Za-z0-9._-]{1,200}$/.test(raw) ? ok(raw) : bad(raw ? 'must be the app client id (letters, digits, ._-)' : 'is required'),
  BITRIX24_CLIENT_SECRET: (raw = '') => (raw.length >= 8 ? ok(raw) : bad(raw ? 'is too short' : 'is required')),
  BITRIX24_OAUTH_SERVERS: (raw = 'https://oauth.bitrix.info,https://oauth.bitrix24.tech') => {
    const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
    if (list.length === 0) return bad('must list at least one OAuth server origin');
    const origins: string[] = [];
    for (const item of list) {
      const u = parseUrl(item, 'each entry must be');
      if (!u.ok) return u;
      if (trimSlash(u.value.pathname) !== '' || u.value.search) return bad(`entries must be origins without a path, got "${item}"`);
      origins.push(u.value.origin);
    }
    return ok(origins);
  },
  DATABASE_URL: (raw = 'sqlite:./data/b24app.db'): Parsed<Config['database']> => {
    if (raw.startsWith('sqlite:')) {
      const path = raw.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
      return path ? ok({ kind: 'sqlite', path }) : bad('sqlite: needs a file path, e.g. sqlite:./data/b24app.db');
    }
    if (/^postgres(ql)?:\/\//.test(raw)) {
      try {
        const u = new URL(raw);
        if (!u.hostname && !u.searchParams.get('host')) return bad('postgres:// needs a host, e.g. postgres://user:password@db.example:5432/b24app');
      } catch {
        return bad('must be a valid postgres://user:password@host:5432/database URL');
      }
      return ok({ kind: 'postgres', url: raw });
    }
    return bad('must be sqlite:PATH or postgres://user:password@host:5432/database');
  },
  DATABASE_POOL_MAX: (raw = '10') =>
    /^\d{1,4}$/.test(raw) && Number(raw) >= 1 && Number(raw) <= 1000 ? ok(Number(raw)) : bad(`must be a number of connections 1-1000, got "${raw}"`),
  DATABASE_STATEMENT_TIMEOUT_MS: (raw = '5000') =>
    /^\d{1,9}$/.test(raw) ? ok(Number(raw)) : bad(`must be a number of milliseconds (0: no limit), got "${raw}"`),
  APP_SECRET: (raw = '') =>
    raw.length >= 32 ? ok(raw) : bad(raw ? 'must be at least 32 characters' : 'is required (32+ random characters)'),
  BX24_SDK_URL: (raw = '//api.bitrix24.com/api/v1/') =>
    /^(https?:)?\/\/[^/\s]+/.test(raw) ? ok(raw) : bad(`must be an http(s) or protocol-relative URL, got "${raw}"`),
  TRUST_PROXY: (raw = 'false') => {
    const v = raw.toLowerCase();
    if (['true', 'yes', 'on'].includes(v)) return ok(1);
    if (['false', 'no', 'off', ''].includes(v)) return ok(0);
    if (/^\d$|^10$/.test(v)) return ok(Number(v));
    return bad(`must be true or false, or the number of proxies in front of the app (0-10), got "${raw}"`);
  },
  BITRIX24_PORTAL_DOMAINS: (raw = CLOUD_PORTAL_DOMAINS) => {
    const list = raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    const wrong = list.find((s) => !/^\.?[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(s));
    if (wrong !== undefined) return bad(`must list domain suffixes like .bitrix24.ru, got "${wrong}"`);
    return ok(list.map((s) => (s.startsWith('.') ? s : `.${s}`)));
  },
  ITEMS_PER_USER_MAX: (raw = '10000') =>
    /^\d{1,9}$/.test(raw) && Number(raw) >= 1 ? ok(Number(raw)) : bad(`must be a whole number of items, 1 or more, got "${raw}"`),
  CLEAN_UNINSTALL_DELAY_MINUTES: (raw = '60') =>
    /^\d+$/.test(raw) && Number(raw) <= 43_200 ? ok(Number(raw)) : bad(`must be a number of minutes 0-43200, got "${raw}"`),
  UNINSTALL_GRACE_DAYS: (raw = '7') =>
    /^\d+(\.\d+)?$/.test(raw) && Number(raw) <= 365 ? ok(Number(raw)) : bad(`must be a number of days 0-365, got "${raw}"`),
  CALENDAR_WRITE_DELAY_SECONDS: (raw = '2') =>
    /^\d{1,4}$/.test(raw) && Number(raw) <= 3600 ? ok(Number(raw)) : bad(`must be a number of seconds 0-3600, got "${raw}"`),
  REFRESH_TOKEN_LIFETIME_DAYS: (raw = '180') =>
    /^\d{1,4}$/.test(raw) && Number(raw) >= 1 && Number(raw) <= 3650 ? ok(Number(raw)) : bad(`must be a number of days 1-3650, got "${raw}"`),
  TOKEN_RENEW_AT_PERCENT: (raw = '50') =>
    /^\d{2}$/.test(raw) && Number(raw) >= 10 && Number(raw) <= 90 ? ok(Number(raw)) : bad(`must be a percentage 10-90, got "${raw}"`),
  LOG_LEVEL: (raw = 'info') =>
    ['debug', 'info', 'warn', 'error'].includes(raw) ? ok(raw as Config['logLevel']) : bad('must be debug, info, warn or error'),
  LOG_FORMAT: (raw = 'json') => (raw === 'json' || raw === 'pretty' ? ok(raw as Config['logFormat']) : bad(`must be json or pretty, got "${raw}"`)),
  METRICS_ALLOW: (raw = '') => {
    const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
    const wrong = list.find((entry) => !isAddressOrRange(entry));
    if (wrong !== undefined) return bad(`must list IP addresses or CIDR ranges (10.0.0.0/8), got "${wrong}"`);
    return ok(list);
  },
  // It travels in a header and is compared whole: visible ASCII, long enough not to be guessed.
  METRICS_TOKEN: (raw = '') =>
    raw === '' || /^[\x21-\x7e]{16,256}$/.test(raw) ? ok(raw) : bad('must be 16-256 visible ASCII characters without spaces (e.g. openssl rand -hex 32)'),
} satisfies Record<string, (raw: string) => Parsed<unknown>>;

function isAddressOrRange(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (!family || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/** Variables that may be absent in a mode (their parser is then not run). */
const optionalIn: Record<ConfigMode, string[]> = {
  serve: [],
  dev: [],
  migrate: ['BITRIX24_CLIENT_ID', 'BITRIX24_CLIENT_SECRET', 'APP_SECRET'],
  backup: ['BITRIX24_CLIENT_ID', 'BITRIX24_CLIENT_SECRET', 'APP_SECRET'],
};

export function loadConfig(env: Env, mode: ConfigMode = 'serve'): Config {
  const problems: string[] = [];
  const get = <T>(name: keyof typeof parsers, fallback: T): T => {
    const raw = env[name];
    if (raw === undefined && optionalIn[mode].includes(name)) return fallback;
    const r = (parsers[name] as (raw?: string) => Parsed<T>)(raw === undefined ? undefined : raw.trim());
    if (r.ok) return r.value;
    problems.push(`${name} ${r.problem}`);
    return fallback;
  };
  const publicUrl = get('PUBLIC_URL', 'http://localhost:3000');
  const config: Config = {
    port: get('PORT', 3000),
    host: get('HOST', '0.0.0.0'),
    publicUrl,
    basePath: env.BASE_PATH === undefined ? trimSlash(new URL(publicUrl).pathname) : get('BASE_PATH', ''),
    clientId: get('BITRIX24_CLIENT_ID', ''),
    clientSecret: get('BITRIX24_CLIENT_SECRET', ''),
    oauthServers: get('BITRIX24_OAUTH_SERVERS', ['https://oauth.bitrix.info']),
    database: get('DATABASE_URL', { kind: 'sqlite', path: './data/b24app.db' } as Config['database']),
    databasePoolMax: get('DATABASE_POOL_MAX', 10),
    databaseStatementTimeoutMs: get('DATABASE_STATEMENT_TIMEOUT_MS', 5000),
    appSecret: get('APP_SECRET', ''),
    bx24SdkUrl: get('BX24_SDK_URL', '//api.bitrix24.com/api/v1/'),
    trustProxy: get('TRUST_PROXY', 0),
    logLevel: get('LOG_LEVEL', 'info'),
    // Humans read dev's output; machines read serve's.
    logFormat: env.LOG_FORMAT === undefined ? (mode === 'dev' ? 'pretty' : 'json') : get('LOG_FORMAT', 'json'),
    metricsAllow: get('METRICS_ALLOW', [] as string[]),
    metricsToken: get('METRICS_TOKEN', ''),
    uninstallGraceDays: get('UNINSTALL_GRACE_DAYS', 7),
    cleanUninstallDelayMinutes: get('CLEAN_UNINSTALL_DELAY_MINUTES', 60),
    itemsPerUserMax: get('ITEMS_PER_USER_MAX', 10_000),
    calendarWriteDelaySeconds: get('CALENDAR_WRITE_DELAY_SECONDS', 2),
    refreshTokenLifetimeDays: get('REFRESH_TOKEN_LIFETIME_DAYS', 180),
    tokenRenewAtPercent: get('TOKEN_RENEW_AT_PERCENT', 50),
    portalDomains: get('BITRIX24_PORTAL_DOMAINS', [] as string[]),
  };
  if (problems.length) throw new ConfigError(problems);
  if (!Value.Check(ConfigSchema, config)) {
    const first = Value.Errors(ConfigSchema, config).First();
    throw new ConfigError([`configuration ${first?.path ?? ''} ${first?.message ?? 'is invalid'}`]);
  }
  return config;
}

/** A URL with its password (and any password in its query) replaced, for logs and messages. */
function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) if (/pass/i.test(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return '[unreadable URL]';
  }
}

/**
 * What `serve` logs at start: every setting, the secrets (APP_SECRET, the client secret, the database
 * password, METRICS_TOKEN) only as whether they are set.
 */
export function configSummary(c: Config): Record<string, unknown> {
  const secret = (value: string) => (value ? '[redacted]' : '[not set]');
  return {
    listen: `${c.host}:${c.port}`,
    public_url: c.publicUrl,
    base_path: c.basePath || '/',
    client_id: c.clientId,
    client_secret: secret(c.clientSecret),
    app_secret: secret(c.appSecret),
    oauth_servers: c.oauthServers,
    database: c.database.kind === 'sqlite' ? `sqlite:${c.database.path}` : withoutPassword(c.database.url),
    ...(c.database.kind === 'postgres' ? { database_pool_max: c.databasePoolMax, database_statement_timeout_ms: c.databaseStatementTimeoutMs } : {}),
    bx24_sdk_url: c.bx24SdkUrl,
    trust_proxy: c.trustProxy,
    log_level: c.logLevel,
    log_format: c.logFormat,
    metrics_allow: ['loopback', ...c.metricsAllow],
    metrics_token: secret(c.metricsToken),
    uninstall_grace_days: c.uninstallGraceDays,
    clean_uninstall_delay_minutes: c.cleanUninstallDelayMinutes,
    items_per_user_max: c.itemsPerUserMax,
    calendar_write_delay_seconds: c.calendarWriteDelaySeconds,
    refresh_token_lifetime_days: c.refreshTokenLifetimeDays,
    token_renew_at_percent: c.tokenRenewAtPercent,
    portal_domains: c.portalDomains,
  };
}
