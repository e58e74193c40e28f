/**
 * Debian's nginx as a child process, running deploy/nginx.conf itself with only what a loopback test
 * must change: the upstream is one `b24app serve` on 127.0.0.1, the https server listens with plain
 * http on a free loopback port (no certificate to trust), the http→https server is left out, and
 * every path nginx writes is in a temporary folder (no root-owned paths, no system service). The
 * server's locations, headers, limits and timeouts are the file's, unchanged.
 *
 * `proxy_bind 127.0.0.2` makes nginx reach the app from 127.0.0.2, while clients connect from
 * 127.0.0.1 (or another loopback address they pick): the app can tell its peer from the client only
 * through X-Forwarded-For. Linux routes all of 127.0.0.0/8 to lo.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/temp.ts';
import { waitFor } from '../support/wait-for.ts';

const ROOT = join(import.meta.dir, '..', '..');
export const DEPLOY_NGINX_CONF = join(ROOT, 'deploy', 'nginx.conf');
/** The address nginx connects to the app from. */
export const NGINX_PEER = '127.0.0.2';

export function findNginx(): string {
  const found = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx'].find((p) => existsSync(p));
  if (!found) throw new Error('nginx not found: apt-get install -y nginx (.ci/run does). The deploy tests run the real nginx; they never skip.');
  return found;
}

/** Replaces `from` in `text`, failing when deploy/nginx.conf no longer has it (then this adapter needs a look). */
function must(text: string, from: string | RegExp, to: string): string {
  const next = text.replace(from, to);
  if (next === text) throw new Error(`deploy/nginx.conf changed: ${String(from)} not found; update tests/deploy/nginx.ts`);
  return next;
}

/** deploy/nginx.conf for loopback: the file's server block with the listen address, upstream and TLS changed. */
export function loopbackConfig(listen: string, upstream: string): string {
  let conf = readFileSync(DEPLOY_NGINX_CONF, 'utf8');
  conf = must(conf, /(upstream b24app \{[\s\S]*?)\n(\s*server app1:3000[^\n]*\n\s*server app2:3000[^\n]*)\n/, `$1\n    server ${upstream};\n`);
  // The http -> https redirect server goes; the https server listens with plain http.
  conf = must(conf, /# http -> https\nserver \{[\s\S]*?\n\}\n/, '');
  conf = must(conf, /\n\s*listen 443 ssl;/, `\n    listen ${listen};`);
  conf = must(conf, /server_name apps\.example\.com;/, 'server_name localhost;');
  conf = must(conf, /\n\s*ssl_[a-z_]+ [^\n]*;/g, '');
  return conf;
}

export interface Nginx {
  /** http://localhost:<port> (the app is under /my-app/). */
  origin: string;
  port: number;
  /** nginx's access log so far: `remote_addr request_id "request" status`, one line a request. */
  accessLog(): string[];
  stop(): Promise<void>;
}

/**
 * Starts nginx in the foreground (`daemon off`) with deploy/nginx.conf adapted for loopback, in front of
 * the app at `upstream` (host:port). `extra` goes into the http block (a test's own locations).
 */
export async function startNginx(opts: { port: number; upstream: string; extraServer?: string }): Promise<Nginx> {
  const bin = findNginx();
  const dir = tempDir('b24app-nginx-');
  // Worker processes run as nobody when the master is root: they must reach the temp paths.
  chmodSync(dir.path, 0o755);
  const server = loopbackConfig(`127.0.0.1:${opts.port}`, opts.upstream).replace(
    /\n(\s*# Anything else on this host is not the app's\.)/,
    `\n${opts.extraServer ?? ''}\n$1`,
  );
  const conf = `
worker_processes 1;
pid ${dir.file('nginx.pid')};
error_log ${dir.file('error.log')} info;
events { worker_connections 256; }
http {
    log_format probe '$remote_addr $request_id "$request" $status';
    access_log ${dir.file('access.log')} probe;
    client_body_temp_path ${dir.file('client_body')};
    proxy_temp_path ${dir.file('proxy')};
    fastcgi_temp_path ${dir.file('fastcgi')};
    uwsgi_temp_path ${dir.file('uwsgi')};
    scgi_temp_path ${dir.file('scgi')};
    proxy_bind ${NGINX_PEER};
${server}
}
`;
  const confFile = dir.file('nginx.conf');
  writeFileSync(confFile, conf);
  const test = Bun.spawnSync([bin, '-t', '-p', dir.path, '-e', dir.file('error.log'), '-c', confFile]);
  if (test.exitCode !== 0) throw new Error(`nginx -t refused the adapted deploy/nginx.conf:\n${test.stderr.toString()}\n${conf}`);
  const proc = Bun.spawn([bin, '-p', dir.path, '-e', dir.file('error.log'), '-c', confFile, '-g', 'daemon off;'], { stdout: 'ignore', stderr: 'pipe' });
  const origin = `http://localhost:${opts.port}`;
  await waitFor(
    async () => {
      if (proc.exitCode !== null) throw new Error(`nginx exited with ${proc.exitCode}: ${readFileSync(dir.file('error.log'), 'utf8')}`);
      return fetch(`http://127.0.0.1:${opts.port}/`).then(() => true, () => false);
    },
    { what: 'nginx to listen', intervalMs: 50, timeoutMs: 10_000 },
  );
  return {
    origin,
    port: opts.port,
    accessLog: () => (existsSync(dir.file('access.log')) ? readFileSync(dir.file('access.log'), 'utf8').split('\n').filter(Boolean) : []),
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGQUIT'); // graceful: workers finish, then the master exits
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
      if (!exited) proc.kill('SIGKILL');
      await proc.exited;
      dir.cleanup();
    },
  };
}
