import { afterAll, describe, expect, it } from 'bun:test';
import { Elysia } from 'elysia';
import { createApp } from '../../src/app.ts';
import { createTokenCipher } from '../../src/auth/secrets.ts';
import { AppError } from '../../src/domain/errors.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { openSqliteStore } from '../../src/store/sqlite/open-store.ts';
import { testConfig, TEST_APP_SECRET } from '../support/config.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir();
afterAll(() => dir.cleanup());

async function build(env: Record<string, string> = {}) {
  const store = await openSqliteStore(dir.file(`${crypto.randomUUID()}.db`), { cipher: createTokenCipher(TEST_APP_SECRET) });
  const logger = createMemoryLogger();
  const app = createApp({ config: testConfig(env), store, logger });
  // Routes that fail on purpose, to see what the one error handler makes of them.
  app.router.use(
    new Elysia()
      .get('/boom', () => {
        throw new Error('secret internals at /srv/app.ts:42');
      })
      .get('/api/boom', () => {
        throw new Error('secret internals');
      })
      .get('/api/conflict', () => {
        throw new AppError('conflict', 'Changed by someone else.', { current: { version: 2 } });
      }),
  );
  return { app, store, logger };
}

describe('GET /health and /ready', () => {
  it('answers liveness and readiness on a migrated store', async () => {
    const { app } = await build();
    expect(await (await app.handle(new Request('http://localhost/health'))).json()).toEqual({ status: 'ok' });
    const ready = await app.handle(new Request('http://localhost/ready'));
    expect(ready.status).toBe(200);
  });

  it('reports 503 when migrations are missing', async () => {
    const { app, store } = await build();
    (store as unknown as { db: import('bun:sqlite').Database }).db.exec('DELETE FROM schema_migrations');
    const ready = await app.handle(new Request('http://localhost/ready'));
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { status: string }).status).toBe('not_ready');
  });
});

describe('error handling', () => {
  it('turns an unknown error into an opaque 500 with a request id (JSON for the API)', async () => {
    const { app, logger } = await build();
    const res = await app.handle(new Request('http://localhost/api/boom'));
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string; request_id: string } };
    expect(body.error.code).toBe('internal');
    expect(JSON.stringify(body)).not.toContain('secret internals');
    expect(body.error.request_id).toBe(res.headers.get('x-request-id')!);
    expect(logger.lines.some((l) => l.includes('unhandled error') && l.includes(body.error.request_id))).toBe(true);
  });

  it('shows a styled page without details for a failed navigation', async () => {
    const { app } = await build();
    const res = await app.handle(new Request('http://localhost/boom', { headers: { accept: 'text/html' } }));
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('Something went wrong');
    expect(html).not.toContain('/srv/app.ts');
  });

  it('keeps an AppError code, message and details', async () => {
    const { app } = await build();
    const res = await app.handle(new Request('http://localhost/api/conflict'));
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: { code: 'conflict', message: 'Changed by someone else.', current: { version: 2 } } });
  });

  it('answers an unknown API path with a JSON 404', async () => {
    const { app } = await build();
    const res = await app.handle(new Request('http://localhost/api/nothing'));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});

describe('edge', () => {
  it('logs one JSON line per request without the query string', async () => {
    const { app, logger } = await build();
    await app.handle(new Request('http://localhost/health?AUTH_ID=leaky-token-value&code=abc'));
    const line = logger.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request');
    expect(line).toMatchObject({ method: 'GET', path: '/health', status: 200 });
    expect(typeof line.duration_ms).toBe('number');
    expect(typeof line.request_id).toBe('string');
    expect(logger.lines.join('\n')).not.toContain('leaky-token-value');
  });

  it('serves routes under BASE_PATH and without it (nginx may strip the prefix)', async () => {
    const { app } = await build({ PUBLIC_URL: 'https://apps.example.com/b24' });
    expect((await app.handle(new Request('http://localhost/b24/health'))).status).toBe(200);
    expect((await app.handle(new Request('http://localhost/health'))).status).toBe(200);
    expect(app.assets.url('htmx.js')).toStartWith('/b24/public/htmx.');
  });

  it('takes the client address from X-Forwarded-For only as far as TRUST_PROXY trusts it: the entries our proxies appended', async () => {
    // The client sent "forged"; nginx appended the address it saw (203.0.113.7); a second proxy, 10.0.0.1.
    const cases: [string, string | undefined][] = [['false', undefined], ['true', '10.0.0.1'], ['2', '203.0.113.7'], ['5', undefined]];
    for (const [trust, expected] of cases) {
      const { app, logger } = await build({ TRUST_PROXY: trust });
      await app.handle(new Request('http://localhost/health', { headers: { 'x-forwarded-for': 'forged, 203.0.113.7, 10.0.0.1' } }));
      const line = JSON.parse(logger.lines.find((l) => l.includes('"request"'))!);
      expect(line.ip).toBe(expected);
    }
  });

  it('sets baseline security headers', async () => {
    const { app } = await build();
    const res = await app.handle(new Request('http://localhost/health'));
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('lets only Bitrix24 frame an HTML error page', async () => {
    const { app } = await build();
    const res = await app.handle(new Request('http://localhost/nowhere', { headers: { accept: 'text/html' } }));
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain('frame-ancestors https://*.bitrix24.com');
    expect(csp).not.toMatch(/frame-ancestors[^;]*\*(;|$| )/);
  });
});

describe('static assets', () => {
  it('serves htmx 2 and Alpine 3 from the binary under hashed names with an immutable cache', async () => {
    const { app } = await build();
    for (const [name, marker] of [['htmx.js', 'htmx'], ['alpine.js', 'Alpine']] as const) {
      const res = await app.handle(new Request('http://localhost' + app.assets.url(name)));
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('content-type')).toContain('javascript');
      expect(await res.text()).toContain(marker);
    }
    expect((await app.handle(new Request('http://localhost/public/htmx.0000000000.js'))).status).toBe(404);
  });
});
