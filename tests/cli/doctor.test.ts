/**
 * `b24app doctor` against real things: a broken environment; a started stack (the portal emulator and
 * the app on a real database, SQLite and PostgreSQL) with installed portals; a portal whose app was
 * removed while the app was down; event bindings unbound on the portal; schemas behind and ahead of
 * the binary. In process through `runDoctor`, and as the real entry point for the exit code.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { runDoctor, type CheckResult, type DoctorDeps } from '../../src/cli/doctor.ts';
import { checkAppSecret, checkOAuthServers, checkPublicUrl, checkTrustProxy } from '../../src/cli/doctor-config.ts';
import { rest, type EmulatedPortal } from '../support/emulator-client.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { freshTestDatabase, type TestBackend } from '../support/test-database.ts';
import { tempDir } from '../support/temp.ts';
import { migrations } from '../../src/store/migrations/index.ts';

setDefaultTimeout(60_000);
const ROOT = `${import.meta.dir}/../..`;
/** What `openssl rand -hex 32` gives: the secret a deployment should have. */
const APP_SECRET = randomBytes(32).toString('hex');
const dir = tempDir('b24app-doctor-');
afterAll(() => dir.cleanup());

/** The environment the stack's app runs with, as an operator would give it to `serve` and `doctor`. */
function envOf(stack: Stack): Record<string, string> {
  return {
    PUBLIC_URL: stack.appUrl,
    HOST: '127.0.0.1',
    PORT: new URL(stack.appUrl).port,
    BITRIX24_CLIENT_ID: stack.clientId,
    BITRIX24_CLIENT_SECRET: stack.clientSecret,
    BITRIX24_OAUTH_SERVERS: stack.emulator.url,
    APP_SECRET,
    DATABASE_URL: stack.database.url,
  };
}

async function doctor(env: Record<string, string>, deps: Partial<DoctorDeps> = {}) {
  const lines: string[] = [];
  const summary = await runDoctor({ env, write: (line) => lines.push(line), color: false, timeoutMs: 3000, ...deps });
  return { ...summary, lines, output: lines.join('\n') };
}

/** `bun src/main.ts doctor` with only `env` (none of this process's own app variables), awaited. */
async function doctorCli(env: Record<string, string>) {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(BITRIX24_|APP_SECRET|DATABASE_|PUBLIC_URL|BASE_PATH|TRUST_PROXY|HOST$|PORT$|TEST_)/.test(k)),
  );
  // Not spawnSync: the app under test answers /health from this very process.
  const proc = Bun.spawn([process.execPath, 'src/main.ts', 'doctor'], { cwd: ROOT, env: { ...inherited, ...env }, stdout: 'pipe', stderr: 'pipe' });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

const named = (results: CheckResult[], name: string, about = '') => results.filter((r) => r.name === name && r.detail.includes(about));

async function installedPortal(stack: Stack): Promise<EmulatedPortal> {
  const portal = await stack.emu.createPortal();
  await stack.emu.install(portal.member_id);
  return portal;
}

describe('b24app doctor on a broken configuration', () => {
  const env = {
    PUBLIC_URL: 'http://b24app.invalid',
    APP_SECRET: 'password'.repeat(5),
    BITRIX24_CLIENT_SECRET: 'client-secret-never-printed',
    BITRIX24_OAUTH_SERVERS: 'http://oauth.example.com',
    DATABASE_URL: 'postgres://app:s3cret-pass@127.0.0.1:1/b24app',
  };

  it('fails with exit code 1, a fail line for each problem, and no secret in the output', async () => {
    const r = await doctorCli(env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toContain('fail configuration   BITRIX24_CLIENT_ID is required');
    expect(lines.find((l) => l.startsWith('fail PUBLIC_URL'))).toContain('plain http on a public host');
    expect(lines.find((l) => l.startsWith('fail APP_SECRET'))).toContain('8-character pattern repeated');
    expect(lines.find((l) => l.startsWith('fail OAuth servers'))).toContain('http://oauth.example.com: plain http');
    expect(lines.find((l) => l.startsWith('fail database'))).toContain('cannot connect to PostgreSQL at postgres://app:***@127.0.0.1:1/b24app');
    expect(lines.find((l) => l.startsWith('fail handler URL'))).toContain('http://b24app.invalid/events is not reachable from here');
    expect(lines.at(-1)).toBe('1 ok, 0 warn, 6 fail; not checked: portals (the database cannot be read)');
    for (const secret of [env.APP_SECRET, env.BITRIX24_CLIENT_SECRET, 's3cret-pass']) expect(r.stdout).not.toContain(secret);
  });

  it('names a placeholder left from the env example, and a database file that is not there', async () => {
    const r = await doctor({
      ...env,
      APP_SECRET: 'CHANGE-ME-at-least-32-random-characters-0000',
      BITRIX24_CLIENT_ID: 'CHANGE-ME-local.0123456789abcd.12345678',
      DATABASE_URL: `sqlite:${dir.file('missing.db')}`,
    }, { fetch: async () => Promise.reject(new Error('offline')) });
    expect(r.exitCode).toBe(1);
    expect(named(r.results, 'configuration').map((x) => [x.status, x.detail])).toEqual([
      ['fail', 'BITRIX24_CLIENT_ID still holds a placeholder (CHANGE-ME…): fill in the real value'],
    ]);
    expect(named(r.results, 'APP_SECRET')[0]?.detail).toStartWith('is a placeholder');
    expect(named(r.results, 'database')[0]).toEqual({ status: 'fail', name: 'database', detail: expect.stringContaining(`missing.db does not exist`) });
    expect(await Bun.file(dir.file('missing.db')).exists()).toBe(false);
    expect(r.output).not.toContain('CHANGE-ME-at-least');
  });
});

for (const backend of ['sqlite', 'postgres'] as TestBackend[]) {
  describe(`b24app doctor on a running deployment (${backend})`, () => {
    let stack: Stack;
    let portal: EmulatedPortal;
    beforeAll(async () => {
      stack = await startStack({ backend, env: { APP_SECRET } });
      portal = await installedPortal(stack);
    });
    afterAll(() => stack.stop());

    it('passes every check, in process and as `b24app doctor` (exit code 0)', async () => {
      const r = await doctor(envOf(stack));
      expect(r.results.filter((x) => x.status !== 'ok')).toEqual([]);
      expect(r.exitCode).toBe(0);
      expect(r.results.map((x) => x.name)).toEqual(
        ['configuration', 'PUBLIC_URL', 'APP_SECRET', 'OAuth servers', 'TRUST_PROXY', 'database', 'migrations', 'token key', 'handler URL', 'portals', 'app tokens', 'bindings'],
      );
      expect(named(r.results, 'app tokens')[0]?.detail).toBe(`${portal.domain}: live (app.info answered: status L)`);
      expect(named(r.results, 'bindings')[0]?.detail).toBe(`${portal.domain}: every needed event is bound to ${stack.appUrl}/events`);
      expect(r.lines.at(-1)).toBe('12 ok, 0 warn, 0 fail');

      const cli = await doctorCli(envOf(stack));
      expect(cli.stderr).toBe('');
      expect(cli.code).toBe(0);
      expect(cli.stdout).toContain(`ok   app tokens      ${portal.domain}: live`);
      expect(cli.stdout.trimEnd().split('\n').at(-1)).toBe('12 ok, 0 warn, 0 fail');
      expect(cli.stdout).not.toContain(APP_SECRET);
      expect(cli.stdout).not.toContain(stack.clientSecret);
    });

    it('fails the token key, and checks no portal, under another APP_SECRET', async () => {
      const r = await doctor({ ...envOf(stack), APP_SECRET: randomBytes(32).toString('hex') });
      expect(r.exitCode).toBe(1);
      expect(named(r.results, 'token key')[0]?.status).toBe('fail');
      expect(named(r.results, 'app tokens')).toEqual([]);
      expect(r.lines.at(-1)).toEndWith('not checked: portals (APP_SECRET does not open the stored tokens)');
    });

    it('reports bindings missing on the portal: a calendar event as a warning, ONAPPUNINSTALL as a failure', async () => {
      const other = await installedPortal(stack);
      const admin = (await stack.emu.launch(other.member_id, 1)).form.AUTH_ID!;
      const unbind = (event: string) => rest(other.client_endpoint, 'event.unbind', { event, handler: `${stack.appUrl}/events` }, admin);
      expect((await unbind('ONCALENDARENTRYDELETE')).body.result).toEqual({ count: 1 });
      const warned = await doctor(envOf(stack));
      expect(named(warned.results, 'bindings', other.domain)).toEqual([{ status: 'warn', name: 'bindings', detail: `${other.domain}: missing: ONCALENDARENTRYDELETE` }]);
      expect(warned.exitCode).toBe(0);

      expect((await unbind('ONAPPUNINSTALL')).body.result).toEqual({ count: 1 });
      const failed = await doctor(envOf(stack));
      expect(named(failed.results, 'bindings', other.domain)).toEqual([
        { status: 'fail', name: 'bindings', detail: `${other.domain}: missing: ONAPPUNINSTALL, ONCALENDARENTRYDELETE` },
      ]);
      expect(named(failed.results, 'bindings', portal.domain)[0]?.status).toBe('ok');
      expect(failed.exitCode).toBe(1);
    });

    it('keeps checking after a check throws: that check fails with a one-line reason', async () => {
      const brokenHealth: DoctorDeps['fetch'] = (url, init) => (url.endsWith('/health') ? Promise.resolve(null as unknown as Response) : fetch(url, init));
      const r = await doctor(envOf(stack), { fetch: brokenHealth });
      expect(named(r.results, 'handler URL')[0]).toEqual({ status: 'fail', name: 'handler URL', detail: expect.stringMatching(/^the check itself failed: /) });
      expect(named(r.results, 'app tokens', portal.domain)[0]?.status).toBe('ok');
      expect(r.output).not.toContain('    at ');
    });
  });

  describe(`b24app doctor after the app was removed while it was down (${backend})`, () => {
    it('fails that portal\'s app tokens: it needs re-authorization', async () => {
      const stack = await startStack({ backend, env: { APP_SECRET } });
      try {
        const portal = await installedPortal(stack);
        // The app is down when the admin removes it: ONAPPUNINSTALL never arrives, the tokens die.
        await stack.server.shutdown('test');
        const removed = await stack.emu.uninstall(portal.member_id, false);
        expect(removed.deliveries.map((d) => d.status)).toEqual([0]);
        const r = await doctor(envOf(stack));
        expect(r.exitCode).toBe(1);
        expect(named(r.results, 'app tokens')).toEqual([
          {
            status: 'fail',
            name: 'app tokens',
            detail: `${portal.domain}: needs re-authorization: an administrator opens the app (Bitrix24 refused the refresh with invalid_client: the app was removed from the portal, or BITRIX24_CLIENT_SECRET is wrong)`,
          },
        ]);
        expect(named(r.results, 'bindings')).toEqual([]);
        expect(named(r.results, 'handler URL')[0]?.status).toBe('fail');
      } finally {
        await stack.stop();
      }
    });
  });

  describe(`b24app doctor on a schema that is not this binary's (${backend})`, () => {
    it('warns about pending migrations and fails on a schema newer than the binary', async () => {
      const database = await freshTestDatabase({ backend, sqlitePath: dir.file(`schema-${crypto.randomUUID()}.db`) });
      const store = await database.open();
      try {
        const env = { BITRIX24_CLIENT_ID: 'local.abc.1', BITRIX24_CLIENT_SECRET: 'client-secret-value', APP_SECRET, DATABASE_URL: database.url };
        const offline = { fetch: async () => Promise.reject(new Error('offline')) };
        const last = migrations.at(-1)!;
        await database.sql(`DELETE FROM schema_migrations WHERE version = ${last.version}`);
        const behind = await doctor(env, offline);
        expect(named(behind.results, 'migrations')).toEqual([
          { status: 'warn', name: 'migrations', detail: `pending: ${last.name}; run \`b24app migrate\` (serve also applies them at start)` },
        ]);
        expect(behind.lines.at(-1)).toEndWith("not checked: portals (the schema is not this binary's)");

        await database.sql(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${last.version}, '${last.name}', 0), (99, '099_future', 0)`);
        const ahead = await doctor(env, offline);
        expect(named(ahead.results, 'migrations')).toEqual([
          { status: 'fail', name: 'migrations', detail: `the schema is version 99, newer than this binary knows (${last.version}): run the newer b24app` },
        ]);
        expect(ahead.exitCode).toBe(1);
      } finally {
        await store.close();
        await database.drop();
      }
    });
  });
}

describe('doctor checks of the configuration', () => {
  it('APP_SECRET: random passes; placeholders, repetition, low entropy and typed-in runs do not', () => {
    const detail = (s: string, client?: string) => {
      const r = checkAppSecret(s, client);
      return `${r.status}: ${r.detail}`;
    };
    expect(detail(APP_SECRET)).toStartWith('ok: 64 characters');
    expect(detail(randomBytes(32).toString('base64url'))).toStartWith('ok: 43 characters');
    expect(detail('x'.repeat(40))).toStartWith('fail: is one character repeated');
    expect(detail('ab12'.repeat(10))).toStartWith('fail: is a 4-character pattern repeated');
    expect(detail('aaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbc')).toStartWith('fail: has low entropy');
    expect(detail('replace-me-with-32-random-characters-please')).toStartWith('fail: is a placeholder');
    expect(detail(APP_SECRET, APP_SECRET)).toStartWith('fail: is the same as BITRIX24_CLIENT_SECRET');
    expect(detail('test-app-secret-0123456789abcdef0123456789')).toStartWith('warn: contains a run of 16 consecutive characters');
    for (const weak of ['x'.repeat(40), 'ab12'.repeat(10)]) expect(detail(weak)).not.toContain(weak);
  });

  it('PUBLIC_URL: https or loopback pass, private http warns, public http fails', () => {
    expect(checkPublicUrl('https://apps.example.com/my-app').status).toBe('ok');
    expect(checkPublicUrl('http://localhost:3000').status).toBe('ok');
    expect(checkPublicUrl('http://127.0.0.1:3000').status).toBe('ok');
    expect(checkPublicUrl('http://192.168.1.20:3000').status).toBe('warn');
    expect(checkPublicUrl('http://apps.example.com').status).toBe('fail');
  });

  it('OAuth servers: https only, a loopback emulator only in development, the cloud server noted when absent', () => {
    expect(checkOAuthServers(['https://oauth.bitrix.info', 'https://oauth.bitrix24.tech'], 'https://apps.example.com')).toMatchObject({ status: 'ok' });
    expect(checkOAuthServers(['http://127.0.0.1:4100'], 'http://localhost:3000')).toMatchObject({ status: 'ok' });
    expect(checkOAuthServers(['https://oauth.bitrix.info', 'http://127.0.0.1:4100'], 'https://apps.example.com').detail).toContain('is a local emulator: remove it in production');
    expect(checkOAuthServers(['https://oauth.portal.example.com'], 'https://apps.example.com')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('https://oauth.bitrix.info is not listed'),
    });
    expect(checkOAuthServers(['http://oauth.example.com'], 'https://apps.example.com').status).toBe('fail');
  });

  it('TRUST_PROXY: warns when an https proxy is not trusted, and when a trusted one can be bypassed', () => {
    const behindNginx = 'https://apps.example.com/my-app';
    expect(checkTrustProxy(0, '127.0.0.1', 3000, behindNginx)).toMatchObject({ status: 'warn', detail: expect.stringContaining('listens on 127.0.0.1 only') });
    expect(checkTrustProxy(1, '127.0.0.1', 3000, behindNginx).status).toBe('ok');
    expect(checkTrustProxy(1, '0.0.0.0', 3000, behindNginx)).toMatchObject({ status: 'warn', detail: expect.stringContaining('0.0.0.0:3000') });
    // deploy/compose.yaml: 0.0.0.0 inside the container, the port only on the compose network.
    expect(checkTrustProxy(1, '0.0.0.0', 3000, behindNginx, true)).toMatchObject({ status: 'ok', detail: expect.stringContaining('make sure only the proxy reaches port 3000') });
    expect(checkTrustProxy(0, '127.0.0.1', 3000, 'http://localhost:3000').status).toBe('ok');
  });
});
