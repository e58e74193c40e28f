/**
 * The files of deploy/ as shipped: the systemd unit passes `systemd-analyze verify` (and its offline
 * security review scores it well), deploy/nginx.conf passes `nginx -t` with its TLS server as written,
 * and the README's nginx lines are the file's. The nginx journey (nginx-journey.test.ts) runs the file.
 * The tools are Debian's (systemd, nginx, openssl; .ci/run installs them): missing, these tests fail.
 */
import { describe, expect, it } from 'bun:test';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/temp.ts';
import { DEPLOY_NGINX_CONF, findNginx } from './nginx.ts';

const ROOT = join(import.meta.dir, '..', '..');
const UNIT = join(ROOT, 'deploy', 'b24app.service');

function tool(name: string): string {
  const found = ['/usr/bin', '/usr/sbin', '/bin', '/usr/local/bin'].map((d) => join(d, name)).find((p) => existsSync(p));
  if (!found) throw new Error(`${name} not found: apt-get install -y ${name === 'systemd-analyze' ? 'systemd' : name} (.ci/run does)`);
  return found;
}

const run = (cmd: string[]) => {
  const p = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' });
  return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
};

/** The unit, with ExecStart pointing at an executable that exists here (verify checks that it does). */
function unitHere(): string {
  const dir = tempDir('b24app-unit-');
  const text = readFileSync(UNIT, 'utf8');
  expect(text).toContain('ExecStart=/usr/local/bin/b24app serve');
  const file = dir.file('b24app.service');
  writeFileSync(file, text.replace('ExecStart=/usr/local/bin/b24app', `ExecStart=${process.execPath}`));
  return file;
}

/** `Key=value` lines of the unit's [Service] section (a key may repeat). */
function serviceSettings(): [string, string][] {
  const text = readFileSync(UNIT, 'utf8');
  const service = text.slice(text.indexOf('[Service]'), text.indexOf('[Install]'));
  return service
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}

describe('deploy/b24app.service', () => {
  it('passes systemd-analyze verify without a warning', () => {
    const r = run([tool('systemd-analyze'), 'verify', unitHere()]);
    expect(r.out.trim()).toBe('');
    expect(r.code).toBe(0);
  });

  it('is hardened as the README says, and systemd rates its exposure low', () => {
    const settings = new Map<string, string[]>();
    for (const [k, v] of serviceSettings()) settings.set(k, [...(settings.get(k) ?? []), v]);
    const one = (k: string) => settings.get(k)?.at(-1);
    expect(one('DynamicUser')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('StateDirectory')).toBe('b24app');
    expect(one('WorkingDirectory')).toBe('/var/lib/b24app');
    expect(one('EnvironmentFile')).toBe('/etc/b24app/b24app.env');
    expect(one('Restart')).toBe('on-failure');
    expect(one('RestartPreventExitStatus')).toBe('2'); // a configuration error
    for (const k of ['NoNewPrivileges', 'PrivateTmp', 'ProtectHome', 'PrivateDevices', 'ProtectKernelTunables', 'RestrictSUIDSGID']) expect(one(k), k).toBe('yes');
    expect(one('CapabilityBoundingSet')).toBe('');
    // Bun's JIT writes and then executes code: this one would kill the process at start.
    expect(settings.has('MemoryDenyWriteExecute')).toBe(false);
    // Behind nginx on the same host: loopback only, one proxy trusted, the database in the state directory.
    expect(one('Environment')?.split(' ')).toEqual(['HOST=127.0.0.1', 'PORT=3000', 'TRUST_PROXY=1', 'DATABASE_URL=sqlite:/var/lib/b24app/b24app.db']);

    const review = run([tool('systemd-analyze'), 'security', '--offline=true', '--no-pager', unitHere()]);
    const level = /Overall exposure level for b24app\.service: ([\d.]+)/.exec(review.out);
    expect(level, review.out.slice(-2000)).not.toBeNull();
    console.log(`systemd-analyze security: exposure ${level![1]} (0 best, 10 worst)`);
    expect(Number(level![1])).toBeLessThanOrEqual(2);
  });
});

describe('deploy/nginx.conf', () => {
  it('passes nginx -t as shipped (TLS server included), given certificates and resolvable upstreams', () => {
    const dir = tempDir('b24app-nginx-t-');
    const key = dir.file('privkey.pem');
    const cert = dir.file('fullchain.pem');
    const made = run([tool('openssl'), 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=apps.example.com', '-keyout', key, '-out', cert]);
    expect(made.code, made.out).toBe(0);
    // Only what the compose network and the certificate mount provide changes.
    const conf = readFileSync(DEPLOY_NGINX_CONF, 'utf8').replaceAll('/etc/nginx/certs/', `${dir.path}/`).replace(/server app[12]:3000/g, 'server 127.0.0.1:3000');
    writeFileSync(
      dir.file('nginx.conf'),
      `pid ${dir.file('nginx.pid')};\nevents {}\nhttp {\n    access_log off;\n    client_body_temp_path ${dir.file('cb')};\n    proxy_temp_path ${dir.file('p')};\n    fastcgi_temp_path ${dir.file('f')};\n    uwsgi_temp_path ${dir.file('u')};\n    scgi_temp_path ${dir.file('s')};\n${conf}\n}\n`,
    );
    const r = run([findNginx(), '-t', '-q', '-p', dir.path, '-e', dir.file('error.log'), '-c', dir.file('nginx.conf')]);
    expect(r.code, r.out).toBe(0);
    // Bitrix24 frames the app: no directive (comments aside) may forbid that.
    expect(conf.split('\n').filter((l) => !l.trim().startsWith('#') && /X-Frame-Options/i.test(l))).toEqual([]);
    dir.cleanup();
  });

  it("is what the README shows: its nginx block is the file's /my-app locations", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Deploying behind nginx'));
    const snippet = /```nginx\n([\s\S]*?)```/.exec(section)?.[1];
    expect(snippet).toBeDefined();
    const file = readFileSync(DEPLOY_NGINX_CONF, 'utf8');
    const start = file.indexOf('    # The handler URL without its slash');
    const end = file.indexOf('    # Anything else on this host is not the app');
    expect(start).toBeGreaterThan(0);
    const locations = file
      .slice(start, end)
      .split('\n')
      .map((l) => l.replace(/^ {4}/, ''))
      .join('\n')
      .trim();
    expect(snippet!.trim()).toBe(locations);
  });
});
