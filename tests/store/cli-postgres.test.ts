// The executable with a postgres:// DATABASE_URL: migrate, serve's refusals (exit 2, the problem named,
// no password shown), and backup's pointer to pg_dump. Uses the local server, like the store suite.
import { afterAll, describe, expect, it } from 'bun:test';
import { SQL } from 'bun';
import { TEST_APP_SECRET } from '../support/config.ts';
import { TEST_DATABASE_URL } from './backends.ts';
import { latestVersion, postgresMigrations } from '../../src/store/migrations/index.ts';

const root = `${import.meta.dir}/../..`;
const schema = `test_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`;
const admin = new SQL(TEST_DATABASE_URL, { max: 1 });
afterAll(async () => {
  await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
  await admin.close();
});

/** The test URL with the schema as a startup parameter (Bun sends unknown URL keys to the server). */
const schemaUrl = () => {
  const u = new URL(TEST_DATABASE_URL);
  u.searchParams.set('search_path', schema);
  return u.toString();
};

function run(args: string[], env: Record<string, string>) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('BITRIX24_') && !k.startsWith('DATABASE_') && k !== 'APP_SECRET'),
  );
  const p = Bun.spawnSync([process.execPath, 'src/main.ts', ...args], { cwd: root, env: { ...clean, ...env }, timeout: 30_000 });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

const valid = { BITRIX24_CLIENT_ID: 'local.abc.1', BITRIX24_CLIENT_SECRET: 'client-secret', APP_SECRET: TEST_APP_SECRET };

describe('b24app CLI on PostgreSQL', () => {
  it('migrate applies every migration into the schema, then reports it up to date', async () => {
    await admin.unsafe(`CREATE SCHEMA ${schema}`);
    const first = run(['migrate'], { DATABASE_URL: schemaUrl() });
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain('applied: 001_initial, 002_refresh_lease, 003_lifecycle, 004_search_fold_yo, 005_calendar_queue, 006_instances, 007_install_health, 008_item_api_json');
    expect(run(['migrate'], { DATABASE_URL: schemaUrl() }).stdout).toContain('database is up to date');
    const rows = await admin.unsafe(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
    expect(rows.map((r: { version: number }) => r.version)).toEqual(postgresMigrations.map((m) => m.version));
  });

  it('serve and migrate refuse a schema newer than the binary, with exit code 2', async () => {
    await admin.unsafe(`INSERT INTO ${schema}.schema_migrations (version, name, applied_at) VALUES (${latestVersion() + 1}, 'from_the_future', 0)`);
    for (const command of ['serve', 'migrate']) {
      const r = run([command], { ...valid, DATABASE_URL: schemaUrl(), PORT: '0' });
      expect([command, r.code]).toEqual([command, 2]);
      expect(r.stderr).toContain(`schema is version ${latestVersion() + 1}, newer than this binary knows (${latestVersion()})`);
    }
    await admin.unsafe(`DELETE FROM ${schema}.schema_migrations WHERE version = ${latestVersion() + 1}`);
  });

  it('serve refuses, naming the problem and not the password, when PostgreSQL cannot be reached', () => {
    const r = run(['serve'], { ...valid, DATABASE_URL: 'postgres://app:s3cret-pass@127.0.0.1:1/b24app' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DATABASE_URL cannot connect to PostgreSQL at postgres://app:***@127.0.0.1:1/b24app');
    expect(r.stderr).not.toContain('s3cret-pass');
  });

  it('backup refuses on PostgreSQL and gives the pg_dump command', () => {
    const r = run(['backup', '/tmp/b24app.dump'], { DATABASE_URL: TEST_DATABASE_URL });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pg_dump --format=custom --file=/tmp/b24app.dump "$DATABASE_URL"');
  });
});
