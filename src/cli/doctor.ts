/**
 * `b24app doctor`: checks a deployment from the environment `serve` reads, one line per check
 *
 *   ok   database        sqlite:/data/b24app.db answers
 *   warn TRUST_PROXY     off, but PUBLIC_URL is https …
 *   fail app tokens      acme.bitrix24.com: needs re-authorization …
 *
 * and a summary; exit code 1 when a check failed (warnings do not fail). Each check is a small function
 * returning a CheckResult (doctor-config.ts, doctor-database.ts, doctor-portals.ts); this runner orders
 * them, skips what an earlier failure makes meaningless, turns an unexpected error into that check's
 * `fail` (`guarded`), redacts and prints. Everything it uses comes in through DoctorDeps: tests bring their own fetch,
 * clock and output.
 */
import { existsSync } from 'node:fs';
import { createBitrix, type Bitrix } from '../bitrix/index.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { redactUrl } from '../store/postgres/database.ts';
import type { Store } from '../store/store.ts';
import { checkAppSecret, checkConfiguration, checkOAuthServers, checkPublicUrl, checkTrustProxy, parsed } from './doctor-config.ts';
import { checkDatabase } from './doctor-database.ts';
import { guarded, oneLine, type CheckResult, type CheckStatus, type FetchFn } from './doctor-check.ts';
import { checkHandlerUrl, checkPortals, PORTAL_LIMIT } from './doctor-portals.ts';

export type { CheckResult, CheckStatus } from './doctor-check.ts';

type Env = Record<string, string | undefined>;

export interface DoctorDeps {
  env: Env;
  /** One output line (no newline); default stdout. */
  write?: (line: string) => void;
  /** Colour the statuses; default when stdout is a terminal and NO_COLOR is unset. */
  color?: boolean;
  fetch?: FetchFn;
  clock?: Clock;
  /** Each network request's timeout (default 5 s). */
  timeoutMs?: number;
  portalLimit?: number;
}

export interface DoctorSummary {
  results: CheckResult[];
  ok: number;
  warn: number;
  fail: number;
  /** 1 when any check failed, else 0. */
  exitCode: 0 | 1;
}

const NAME_WIDTH = 'configuration'.length + 2;
const COLOURS: Record<CheckStatus, string> = { ok: '\x1b[32m', warn: '\x1b[33m', fail: '\x1b[31m' };

/** The values no line may show, whatever a message carried: the secrets of this environment. */
function secretsOf(env: Env): string[] {
  const out = [env.APP_SECRET, env.BITRIX24_CLIENT_SECRET];
  try {
    const password = new URL(env.DATABASE_URL ?? '').password;
    out.push(password, decodeURIComponent(password));
  } catch {
    // not a URL: no password in it
  }
  // As the REST client scrubs server texts: shorter values would blank ordinary words.
  return out.filter((s): s is string => typeof s === 'string' && s.trim().length >= 8).map((s) => s.trim());
}

export function formatLine(r: CheckResult, color: boolean): string {
  const status = r.status.padEnd(4);
  return `${color ? `${COLOURS[r.status]}${status}\x1b[0m` : status} ${r.name.padEnd(NAME_WIDTH)} ${r.detail}`;
}

export async function runDoctor(deps: DoctorDeps): Promise<DoctorSummary> {
  const { env } = deps;
  const write = deps.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const color = deps.color ?? (process.stdout.isTTY === true && !env.NO_COLOR);
  const fetchFn: FetchFn = deps.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = deps.timeoutMs ?? 5000;
  const secrets = secretsOf(env);
  const results: CheckResult[] = [];
  const skipped: string[] = [];

  const emit = (r: CheckResult) => {
    let detail = r.detail;
    for (const s of secrets) detail = detail.split(s).join('***');
    const shown = { ...r, detail };
    results.push(shown);
    write(formatLine(shown, color));
  };
  const run = async (name: string, check: () => CheckResult | Promise<CheckResult>) => emit(await guarded(name, check));

  // 1. Configuration: serve's own validation, then what it accepts but a deployment should not run with.
  let config: Config | null = null;
  try {
    const loaded = checkConfiguration(env);
    loaded.results.forEach(emit);
    config = loaded.config;
  } catch (e) {
    emit({ status: 'fail', name: 'configuration', detail: `the check itself failed: ${oneLine(e)}` });
  }
  const publicUrl = parsed(env, 'PUBLIC_URL');
  const appSecret = parsed(env, 'APP_SECRET');
  const oauthServers = parsed(env, 'BITRIX24_OAUTH_SERVERS');
  const trustProxy = parsed(env, 'TRUST_PROXY');
  const [host, port] = [parsed(env, 'HOST'), parsed(env, 'PORT')];
  if (publicUrl !== undefined) await run('PUBLIC_URL', () => checkPublicUrl(publicUrl));
  if (appSecret !== undefined) await run('APP_SECRET', () => checkAppSecret(appSecret, parsed(env, 'BITRIX24_CLIENT_SECRET')));
  if (oauthServers !== undefined) await run('OAuth servers', () => checkOAuthServers(oauthServers, publicUrl));
  if (trustProxy !== undefined && host !== undefined && port !== undefined && publicUrl !== undefined) {
    const inContainer = existsSync('/.dockerenv') || existsSync('/run/.containerenv');
    await run('TRUST_PROXY', () => checkTrustProxy(trustProxy, host, port, publicUrl, inContainer));
  }

  // 2. The database, then 3. the network: the handler URL, and the portals through the app tokens.
  const database = parsed(env, 'DATABASE_URL');
  let store: Store | null = null;
  if (database) {
    const checked = await checkDatabase(database, {
      appSecret,
      statementTimeoutMs: parsed(env, 'DATABASE_STATEMENT_TIMEOUT_MS') ?? 5000,
      timeoutMs,
      clock: deps.clock,
    }).catch((e: unknown): Awaited<ReturnType<typeof checkDatabase>> => {
      const where = database.kind === 'postgres' ? redactUrl(database.url) : `sqlite:${database.path}`;
      return { results: [{ status: 'fail', name: 'database', detail: `${where}: ${oneLine(e)}` }], store: null, skipped: 'the database cannot be opened' };
    });
    checked.results.forEach(emit);
    store = checked.store;
    if (checked.skipped) skipped.push(`portals (${checked.skipped})`);
  } else {
    skipped.push('the database and portals (DATABASE_URL is not valid)');
  }
  try {
    if (publicUrl !== undefined) await run('handler URL', () => checkHandlerUrl(publicUrl, fetchFn, timeoutMs));
    if (store && config) {
      const bitrix = doctorBitrix(config, store, fetchFn, timeoutMs);
      try {
        for await (const r of checkPortals(store, bitrix, `${config.publicUrl}/events`, deps.portalLimit ?? PORTAL_LIMIT)) emit(r);
      } catch (e) {
        emit({ status: 'fail', name: 'portals', detail: `cannot list the installed portals: ${oneLine(e)}` });
      }
    } else if (store) {
      skipped.push('portals (the configuration has errors)');
    }
  } finally {
    await store?.close();
  }

  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  const summary: DoctorSummary = { results, ok: count('ok'), warn: count('warn'), fail: count('fail'), exitCode: count('fail') ? 1 : 0 };
  write(`${summary.ok} ok, ${summary.warn} warn, ${summary.fail} fail${skipped.length ? `; not checked: ${skipped.join(', ')}` : ''}`);
  return summary;
}

/** The app's REST client, built as createApp builds it, but quick to give up: one attempt, a short timeout. */
function doctorBitrix(config: Config, store: Store, fetchFn: FetchFn, timeoutMs: number): Bitrix {
  return createBitrix({
    store,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    oauthServers: config.oauthServers,
    timeoutMs,
    retry: { maxRetries: 0, maxOperatingWaitMs: 0 },
    // The portal's REST budget is the one every instance of the app shares.
    sharedBuckets: store.leakyBuckets,
    fetch: fetchFn,
    // This environment's client secret may not be serve's: a refusal here kills no tokens serve may still
    // refresh, and leaves nothing an uninstall could read as Bitrix24's answer.
    recordRefusals: false,
  });
}

/** `b24app doctor`: the exit code says whether any check failed. */
export async function runDoctorCli(env: Env): Promise<void> {
  const { exitCode } = await runDoctor({ env });
  process.exitCode = exitCode;
}
