/**
 * `b24app serve` as its own process, the way operators run it: the real entry point configured only
 * through its environment, next to a portal emulator running in the test process. Used where the
 * process boundary is the point: raw bytes on a socket (Bun's own HTTP layer answers those, before
 * any of our code), and kill -9.
 *
 * `FUZZ_TARGET_CMD` replaces the command (e.g. `dist/b24app serve`, relative to the repository), so
 * `.ci/run` can run the same tests against the compiled binary.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Emulator, EmulatorOptions } from '../../src/emulator/index.ts';
import { TEST_APP_SECRET } from './config.ts';
import { emulatorClient, type EmulatedPortal, type EmulatorClient } from './emulator-client.ts';
import { freePort, sessionTokenOf, startEmulatorForApp } from './stack.ts';
import { freshTestDatabase, type Row, type TestBackend, type TestDatabase } from './test-database.ts';
import { waitFor } from './wait-for.ts';

const ROOT = join(import.meta.dir, '..', '..');

/** The server command: FUZZ_TARGET_CMD split on spaces, or Bun running src/main.ts from this checkout. */
export function serveCommand(): string[] {
  const custom = process.env.FUZZ_TARGET_CMD?.trim();
  if (!custom) return [process.execPath, join(ROOT, 'src', 'main.ts'), 'serve'];
  const [bin, ...args] = custom.split(/\s+/);
  return [bin!.includes('/') && !isAbsolute(bin!) ? join(ROOT, bin!) : bin!, ...args];
}

export interface ChildServer {
  url: string;
  pid: number;
  /** What the process printed so far (the last 64 KB, or `keepOutput` bytes), for failure messages and its log lines. */
  output(): string;
  /**
   * CPU the process has used so far, in clock ticks (user + system, from /proc: Linux, as CI and the
   * Docker image). Unlike wall-clock time it does not grow when other work shares the machine.
   */
  cpuTicks(): number;
  /** SIGKILL: no shutdown hook runs, nothing is flushed beyond what the database already committed. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * `b24app serve` on `port` with exactly `env` (plus PATH and the like), once it answers /health.
 * Stacks below build their environment with serveEnv; tests with their own topology (a proxy in
 * front, tests/deploy/) call this directly.
 */
export async function spawnServe(port: number, env: Record<string, string>, opts: { keepOutput?: number } = {}): Promise<ChildServer> {
  const keep = opts.keepOutput ?? 65_536;
  // Only what we pass: the developer's own BITRIX24_* or DATABASE_URL must not leak into the child.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(BITRIX24_|APP_SECRET|DATABASE_URL|PUBLIC_URL|BASE_PATH|TRUST_PROXY|FUZZ_)/.test(k)),
  );
  // From the checkout: Bun finds the JSX settings (tsconfig.json) from the working directory.
  const proc = Bun.spawn(serveCommand(), { cwd: ROOT, env: { ...inherited, LOG_LEVEL: 'warn', WORKERS: '1', ...env, PORT: String(port) }, stdout: 'pipe', stderr: 'pipe' });
  let out = '';
  // Drain both pipes: a full pipe would block the server's logging, and its answers with it.
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) out = (out + decoder.decode(r.value)).slice(-keep);
  };
  void drain(proc.stdout);
  void drain(proc.stderr);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (proc.exitCode !== null) throw new Error(`serve exited with ${proc.exitCode}: ${out}`);
      return fetch(`${url}/health`).then((r) => r.ok, () => false);
    },
    { what: 'serve to answer /health', intervalMs: 50, timeoutMs: 30_000 },
  ).catch((e: Error) => {
    throw new Error(`${e.message}: ${out}`);
  });
  return {
    url,
    pid: proc.pid,
    output: () => out,
    cpuTicks() {
      const stat = readFileSync(`/proc/${proc.pid}/stat`, 'utf8');
      // Fields after "(comm)": state is field 3, utime 14, stime 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(fields[11]) + Number(fields[12]);
    },
    async kill9() {
      proc.kill('SIGKILL');
      await proc.exited;
    },
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      // A server still busy with a hostile request cannot run its SIGTERM handler: do not wait forever.
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
      if (!exited) proc.kill('SIGKILL');
      await proc.exited;
    },
  };
}

export interface ChildStack {
  /** The app's public URL (`localhost`, as the emulator knows it). */
  appUrl: string;
  /** The app's database (SQLite file, or a PostgreSQL schema with TEST_STORE=postgres; dropped at stop). */
  database: TestDatabase;
  /** Rows straight from the app's database (see Stack.sql). */
  sql<T = Row>(text: string, params?: unknown[]): Promise<T[]>;
  emulator: Emulator;
  emu: EmulatorClient;
  portal: EmulatedPortal;
  server: ChildServer;
  /** Launches the app as `userId` through the emulator and returns the session token from the page. */
  signIn(userId?: number): Promise<string>;
  /** Starts the server again on the same port and database (after kill9 or stop). */
  restart(): Promise<ChildServer>;
  stop(): Promise<void>;
}

/** The environment a `serve` child gets: the app's identity, the emulator as its OAuth server, its database. */
export function serveEnv(appUrl: string, clientId: string, clientSecret: string, emulatorUrl: string, databaseUrl: string): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PUBLIC_URL: appUrl,
    BITRIX24_CLIENT_ID: clientId,
    BITRIX24_CLIENT_SECRET: clientSecret,
    BITRIX24_OAUTH_SERVERS: emulatorUrl,
    BX24_SDK_URL: `${emulatorUrl}/api/v1/`,
    APP_SECRET: TEST_APP_SECRET,
    DATABASE_URL: databaseUrl,
  };
}

/** Emulator + `serve` child + one portal with the app installed by its admin. */
export async function startChildStack(env: Record<string, string> = {}): Promise<ChildStack> {
  const { dir, port, appUrl, clientId, clientSecret, emulator } = await startEmulatorForApp({}, 'b24app-child-');
  const database = await freshTestDatabase({ sqlitePath: dir.file('app.db') });
  const childEnv = { ...serveEnv(appUrl, clientId, clientSecret, emulator.url, database.url), ...env };
  const stack: ChildStack = {
    appUrl,
    database,
    sql: (text, params) => database.sql(text, params),
    emulator,
    emu: emulatorClient(emulator.url),
    portal: undefined as unknown as EmulatedPortal,
    server: await spawnServe(port, childEnv),
    async signIn(userId = 1) {
      const launch = await stack.emu.launch(stack.portal.member_id, userId);
      const url = new URL(`${stack.server.url}/`);
      for (const [k, v] of Object.entries(launch.query)) url.searchParams.set(k, v);
      const res = await fetch(url, { method: 'POST', body: new URLSearchParams(launch.form) });
      const token = sessionTokenOf(await res.text());
      if (res.status !== 200 || !token) throw new Error(`launch as user ${userId} failed: ${res.status}`);
      return token;
    },
    async restart() {
      stack.server = await spawnServe(port, childEnv);
      return stack.server;
    },
    async stop() {
      await stack.server.stop();
      await emulator.stop();
      await database.drop();
      dir.cleanup();
    },
  };
  stack.portal = await stack.emu.createPortal();
  await stack.emu.install(stack.portal.member_id);
  return stack;
}

export interface ChildCluster extends Omit<ChildStack, 'server' | 'signIn' | 'restart'> {
  /** The instances; `servers[0]` listens on the app's public port, so the emulator's events reach it. */
  servers: ChildServer[];
  /** Launches the app as `userId` on instance `index` and returns the session token from the page. */
  signIn(userId?: number, index?: number): Promise<string>;
  /** Starts instance `index` again on its port and the same database (after kill9 or stop). */
  restart(index: number): Promise<ChildServer>;
}

/**
 * `instances` × `b24app serve` on one database (PostgreSQL unless `backend` says otherwise) and one
 * emulator portal with the app installed, as operators run several instances (architecture §5). There
 * is no load balancer: the client picks an instance per request; the app's public URL (and so the
 * address the emulator posts events to) is instance 0's.
 */
export async function startChildCluster(
  opts: { instances: number; env?: Record<string, string>; emulator?: Partial<EmulatorOptions>; backend?: TestBackend },
): Promise<ChildCluster> {
  const { dir, port, appUrl, clientId, clientSecret, emulator } = await startEmulatorForApp(opts.emulator ?? {}, 'b24app-cluster-');
  const database = await freshTestDatabase({ backend: opts.backend ?? 'postgres', sqlitePath: dir.file('app.db') });
  const ports = [port];
  while (ports.length < opts.instances) ports.push(await freePort());
  const childEnv = {
    ...serveEnv(appUrl, clientId, clientSecret, emulator.url, database.url),
    // Few connections each: the test server is shared with other suites.
    DATABASE_POOL_MAX: '4',
    ...opts.env,
  };
  // One at a time: they would take turns on the migrations' advisory lock anyway.
  const servers: ChildServer[] = [];
  try {
    for (const p of ports) servers.push(await spawnServe(p, childEnv));
  } catch (e) {
    for (const s of servers) await s.stop();
    await emulator.stop();
    await database.drop();
    dir.cleanup();
    throw e;
  }
  const cluster: ChildCluster = {
    appUrl,
    database,
    sql: (text, params) => database.sql(text, params),
    emulator,
    emu: emulatorClient(emulator.url),
    portal: undefined as unknown as EmulatedPortal,
    servers,
    async signIn(userId = 1, index = 0) {
      const launch = await cluster.emu.launch(cluster.portal.member_id, userId);
      const url = new URL(`${servers[index]!.url}/`);
      for (const [k, v] of Object.entries(launch.query)) url.searchParams.set(k, v);
      const res = await fetch(url, { method: 'POST', body: new URLSearchParams(launch.form) });
      const token = sessionTokenOf(await res.text());
      if (res.status !== 200 || !token) throw new Error(`launch as user ${userId} on instance ${index} failed: ${res.status}`);
      return token;
    },
    async restart(index) {
      servers[index] = await spawnServe(ports[index]!, childEnv);
      return servers[index]!;
    },
    async stop() {
      for (const s of servers) await s.stop();
      await emulator.stop();
      await database.drop();
      dir.cleanup();
    },
  };
  cluster.portal = await cluster.emu.createPortal();
  await cluster.emu.install(cluster.portal.member_id);
  return cluster;
}
