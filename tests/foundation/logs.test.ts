/**
 * What operators read: JSON lines from `serve`, human lines with LOG_FORMAT=pretty (dev's default),
 * and the configuration summary `serve` logs at start, secrets redacted. The access log's fields are
 * checked on the whole stack in tests/metrics/scrape.test.ts.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { startServe } from '../../src/cli/serve.ts';
import { createBufferedWriter, createLogger } from '../../src/log.ts';
import { testConfig } from '../support/config.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir('b24app-logs-');
afterAll(() => dir.cleanup());

const at = Date.UTC(2026, 10, 30, 12, 34, 56, 789);

describe('log formats', () => {
  it('pretty: time, level, message, then key=value (quoted only when needed), credentials redacted', () => {
    const lines: string[] = [];
    const logger = createLogger('debug', { format: 'pretty', write: (l) => lines.push(l), nowMs: () => at }).child({ portal: 'ab12cd34ef56ab78' });
    logger.info('request', { method: 'GET', route: '/api/items/:id', status: 200, duration_ms: 1.5, note: 'two words', access_token: 'tok-0123456789abcdef', skipped: undefined });
    logger.error('calendar sync failed', { error: new Error('boom'), counts: { done: 1 } });
    expect(lines).toEqual([
      '12:34:56.789 INFO  request portal=ab12cd34ef56ab78 method=GET route=/api/items/:id status=200 duration_ms=1.5 note="two words" access_token=[redacted]',
      '12:34:56.789 ERROR calendar sync failed portal=ab12cd34ef56ab78 error="Error: boom" counts={"done":1}',
    ]);
  });

  it('json: one object a line, the same fields', () => {
    const lines: string[] = [];
    createLogger('info', { write: (l) => lines.push(l), nowMs: () => at }).info('request', { route: '/', status: 200, refresh_id: 'x', error: new TypeError('bad') });
    expect(JSON.parse(lines[0]!)).toEqual({ time: '2026-11-30T12:34:56.789Z', level: 'info', msg: 'request', route: '/', status: 200, refresh_id: '[redacted]', error: { name: 'TypeError', message: 'bad' } });
  });

  it('gives each line the time it was written, and redacts a key however often it comes', () => {
    const lines: string[] = [];
    let ms = at;
    const logger = createLogger('info', { write: (l) => lines.push(l), nowMs: () => ms });
    for (const step of [0, 0, 1, 1000, 0]) {
      ms += step;
      logger.info('request', { route: '/', access_token: 'never', status: 200 });
    }
    expect(lines.map((l) => JSON.parse(l).time)).toEqual([
      '2026-11-30T12:34:56.789Z',
      '2026-11-30T12:34:56.789Z',
      '2026-11-30T12:34:56.790Z',
      '2026-11-30T12:34:57.790Z',
      '2026-11-30T12:34:57.790Z',
    ]);
    expect(lines.every((l) => JSON.parse(l).access_token === '[redacted]' && JSON.parse(l).route === '/')).toBe(true);
  });
});

const secrets = {
  BITRIX24_CLIENT_SECRET: 'client-secret-never-logged',
  APP_SECRET: 'app-secret-never-logged-0123456789abcdef',
  METRICS_TOKEN: 'metrics-token-never-logged',
};

describe('the buffered writer', () => {
  it('writes a batch once its time is up, at once when it is full, and whatever is pending on flush', () => {
    const chunks: string[] = [];
    const timers: (() => void)[] = [];
    const out = createBufferedWriter((c) => chunks.push(c), { flushMs: 100, maxBytes: 40, schedule: (f) => void timers.push(f) });
    out.write('one');
    out.write('two');
    expect(chunks).toEqual([]);
    expect(timers).toHaveLength(1); // one timer a batch, not one a line
    timers.shift()!();
    expect(chunks).toEqual(['one\ntwo\n']);
    out.write('x'.repeat(50)); // past maxBytes: written now
    expect(chunks.at(-1)).toBe(`${'x'.repeat(50)}\n`);
    out.write('last');
    out.flush(); // the exit path
    expect(chunks.at(-1)).toBe('last\n');
    out.flush();
    expect(chunks).toHaveLength(3);
  });
});

describe('serve at start', () => {
  it('logs where it listens and a summary of its configuration, secrets redacted', async () => {
    const lines: string[] = [];
    const config = testConfig({ ...secrets, DATABASE_URL: `sqlite:${dir.file('summary.db')}`, HOST: '127.0.0.1', PORT: '0', METRICS_ALLOW: '10.1.2.3' });
    const running = await startServe(config, createLogger('info', { write: (l) => lines.push(l) }));
    await running.shutdown('test');
    const listening = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'listening');
    expect(listening.url).toBe(running.url);
    expect(listening.config).toMatchObject({ listen: '127.0.0.1:0', app_secret: '[redacted]', client_secret: '[redacted]', metrics_token: '[redacted]', metrics_allow: ['loopback', '10.1.2.3'] });
    expect(listening.config.database).toBe(`sqlite:${dir.file('summary.db')}`);
    for (const value of Object.values(secrets)) expect(lines.join('\n')).not.toContain(value);
  });

  it('writes human lines with LOG_FORMAT=pretty', async () => {
    const proc = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
      cwd: `${import.meta.dir}/../..`,
      env: { ...process.env, ...secrets, BITRIX24_CLIENT_ID: 'local.abc.1', DATABASE_URL: `sqlite:${dir.file('pretty.db')}`, HOST: '127.0.0.1', PORT: '0', LOG_FORMAT: 'pretty' },
      stdout: 'pipe',
    });
    const reader = proc.stdout.getReader();
    let out = '';
    while (!out.includes('\n')) out += new TextDecoder().decode((await reader.read()).value);
    // Once it answers, its signal handlers are in place.
    expect((await fetch(`${/url=(\S+)/.exec(out)![1]}/health`)).status).toBe(200);
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    const first = out.split('\n')[0]!;
    expect(first).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  listening url=http:\/\/127\.0\.0\.1:\d+ public_url=http:\/\/localhost:3000 config=\{"listen":"127\.0\.0\.1:0",/);
    expect(first).toContain('"log_format":"pretty"');
    for (const value of Object.values(secrets)) expect(out).not.toContain(value);
  });
});
