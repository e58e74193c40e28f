import { afterAll, describe, expect, it } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { TEST_APP_SECRET } from '../support/config.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir();
afterAll(() => dir.cleanup());
const root = `${import.meta.dir}/../..`;

function run(args: string[], env: Record<string, string>) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('BITRIX24_') && k !== 'APP_SECRET' && k !== 'DATABASE_URL'),
  );
  const p = Bun.spawnSync([process.execPath, 'src/main.ts', ...args], { cwd: root, env: { ...clean, ...env } });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

const valid = { BITRIX24_CLIENT_ID: 'local.abc.1', BITRIX24_CLIENT_SECRET: 'client-secret', APP_SECRET: TEST_APP_SECRET };

describe('b24app CLI', () => {
  it('prints help and version', () => {
    expect(run(['--help'], {}).stdout).toContain('backup <file>');
    expect(run(['--version'], {}).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('refuses to serve without BITRIX24_CLIENT_ID, naming it, with exit code 2', () => {
    const r = run(['serve'], { BITRIX24_CLIENT_SECRET: 'client-secret', APP_SECRET: TEST_APP_SECRET });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('b24app: BITRIX24_CLIENT_ID is required');
  });

  it('says so when DATABASE_URL points at a file that is not a database', () => {
    const bad = dir.file('corrupt.db');
    writeFileSync(bad, 'this is not sqlite'.repeat(100));
    const r = run(['serve'], { ...valid, DATABASE_URL: `sqlite:${bad}` });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`DATABASE_URL cannot open sqlite:${bad}`);
    expect(r.stderr).toContain('not a database');
  });

  it('migrates, then reports the database up to date', () => {
    const env = { DATABASE_URL: `sqlite:${dir.file('m.db')}` };
    expect(run(['migrate'], env).stdout).toContain('applied: 001_initial');
    expect(run(['migrate'], env).stdout).toContain('up to date');
  });

  it('refuses to serve when APP_SECRET is not the key the stored tokens were sealed with', async () => {
    const path = dir.file('sealed.db');
    const { openSqliteStore } = await import('../../src/store/sqlite/open-store.ts');
    const { createTokenCipher } = await import('../../src/auth/secrets.ts');
    const store = await openSqliteStore(path, { cipher: createTokenCipher(TEST_APP_SECRET) });
    const portal = await store.portals.upsert(
      { memberId: 'm', domain: 'p.example', clientEndpoint: 'https://p.example/rest/', serverEndpoint: 'https://oauth.bitrix.info/rest/', appStatus: 'L', scope: '' },
      'installed',
    );
    await store.tokens.save(portal.id, { kind: 'app' }, 1, { accessToken: 'a'.repeat(32), refreshToken: 'r'.repeat(32), expiresAt: 0, scope: '' });
    await store.close();
    const r = run(['serve'], { ...valid, APP_SECRET: 'another-secret-0123456789abcdef0123456789', DATABASE_URL: `sqlite:${path}` });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('APP_SECRET does not match');
  });

  it('rejects an unknown command', () => {
    expect(run(['frobnicate'], {}).code).toBe(2);
  });
});
