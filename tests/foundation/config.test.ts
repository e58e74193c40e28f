import { describe, expect, it } from 'bun:test';
import { ConfigError, configSummary, loadConfig } from '../../src/config.ts';

const valid = {
  BITRIX24_CLIENT_ID: 'local.0123456789abcd.12345678',
  BITRIX24_CLIENT_SECRET: 'client-secret-value',
  APP_SECRET: 'a'.repeat(32),
};

const problemsOf = (env: Record<string, string | undefined>, mode: 'serve' | 'migrate' = 'serve'): string[] => {
  try {
    loadConfig(env, mode);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
};

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(valid);
    expect(c.port).toBe(3000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.publicUrl).toBe('http://localhost:3000');
    expect(c.basePath).toBe('');
    expect(c.oauthServers).toEqual(['https://oauth.bitrix.info', 'https://oauth.bitrix24.tech']);
    expect(c.database).toEqual({ kind: 'sqlite', path: './data/b24app.db' });
    expect(c.bx24SdkUrl).toBe('//api.bitrix24.com/api/v1/');
    expect(c.trustProxy).toBe(0);
    expect(c.logLevel).toBe('info');
    expect(c.databasePoolMax).toBe(10);
    expect(c.databaseStatementTimeoutMs).toBe(5000);
    expect(c.logFormat).toBe('json');
    expect(c.metricsAllow).toEqual([]);
    expect(c.metricsToken).toBe('');
  });

  it('logs for humans in dev and for machines in serve, unless LOG_FORMAT says otherwise', () => {
    expect(loadConfig(valid, 'dev').logFormat).toBe('pretty');
    expect(loadConfig({ ...valid, LOG_FORMAT: 'json' }, 'dev').logFormat).toBe('json');
    expect(loadConfig(valid, 'serve').logFormat).toBe('json');
  });

  // Each variable: one good value with its parsed result, and bad values with the words that name the problem.
  const cases: { name: string; good: [string, unknown][]; bad: [string, string][]; pick: (c: ReturnType<typeof loadConfig>) => unknown }[] = [
    { name: 'PORT', pick: (c) => c.port, good: [['8080', 8080], ['0', 0]], bad: [['http', 'port number'], ['70000', 'port number'], ['-1', 'port number']] },
    { name: 'HOST', pick: (c) => c.host, good: [['127.0.0.1', '127.0.0.1']], bad: [['  ', 'empty']] },
    {
      name: 'PUBLIC_URL',
      pick: (c) => [c.publicUrl, c.basePath],
      good: [['https://apps.example.com/my-app/', ['https://apps.example.com/my-app', '/my-app']], ['https://x.example', ['https://x.example', '']]],
      bad: [['ftp://x', 'http(s)'], ['not a url', 'absolute URL'], ['https://x.example/?a=1', 'query']],
    },
    { name: 'BASE_PATH', pick: (c) => c.basePath, good: [['/b24/', '/b24'], ['', '']], bad: [['b24', 'path like'], ['/a b', 'path like']] },
    { name: 'BITRIX24_CLIENT_ID', pick: (c) => c.clientId, good: [['app.abc.1', 'app.abc.1']], bad: [['', 'required'], ['has space', 'client id']] },
    { name: 'BITRIX24_CLIENT_SECRET', pick: (c) => c.clientSecret, good: [['s3cr3t-s3cr3t', 's3cr3t-s3cr3t']], bad: [['', 'required'], ['short', 'too short']] },
    {
      name: 'BITRIX24_OAUTH_SERVERS',
      pick: (c) => c.oauthServers,
      good: [['http://127.0.0.1:4100, https://oauth.bitrix.info/', ['http://127.0.0.1:4100', 'https://oauth.bitrix.info']]],
      bad: [[',', 'at least one'], ['https://oauth.bitrix.info/oauth/token', 'without a path'], ['oauth.bitrix.info', 'absolute URL']],
    },
    {
      name: 'DATABASE_URL',
      pick: (c) => c.database,
      good: [
        ['sqlite:/var/lib/b24app/db.sqlite', { kind: 'sqlite', path: '/var/lib/b24app/db.sqlite' }],
        ['postgres://u:p@db.example:5432/b24app?sslmode=require', { kind: 'postgres', url: 'postgres://u:p@db.example:5432/b24app?sslmode=require' }],
        ['postgresql://u@h/db', { kind: 'postgres', url: 'postgresql://u@h/db' }],
      ],
      bad: [['mysql://x', 'sqlite:PATH'], ['sqlite:', 'file path'], ['postgres://', 'needs a host']],
    },
    { name: 'DATABASE_POOL_MAX', pick: (c) => c.databasePoolMax, good: [['25', 25]], bad: [['0', 'connections 1-1000'], ['many', 'connections']] },
    {
      name: 'DATABASE_STATEMENT_TIMEOUT_MS',
      pick: (c) => c.databaseStatementTimeoutMs,
      good: [['0', 0], ['30000', 30000]],
      bad: [['5s', 'milliseconds']],
    },
    { name: 'APP_SECRET', pick: (c) => c.appSecret, good: [['k'.repeat(40), 'k'.repeat(40)]], bad: [['', 'required'], ['short', 'at least 32']] },
    { name: 'BX24_SDK_URL', pick: (c) => c.bx24SdkUrl, good: [['http://127.0.0.1:4100/api/v1/', 'http://127.0.0.1:4100/api/v1/']], bad: [['api/v1', 'protocol-relative']] },
    { name: 'TRUST_PROXY', pick: (c) => c.trustProxy, good: [['true', 1], ['0', 0], ['yes', 1], ['2', 2]], bad: [['maybe', 'true or false'], ['11', 'number of proxies']] },
    { name: 'LOG_LEVEL', pick: (c) => c.logLevel, good: [['debug', 'debug']], bad: [['verbose', 'debug, info']] },
    { name: 'LOG_FORMAT', pick: (c) => c.logFormat, good: [['pretty', 'pretty'], ['json', 'json']], bad: [['text', 'json or pretty']] },
    {
      name: 'METRICS_ALLOW',
      pick: (c) => c.metricsAllow,
      good: [['10.0.0.5, 192.168.0.0/16,2001:db8::/32', ['10.0.0.5', '192.168.0.0/16', '2001:db8::/32']], ['', []]],
      bad: [['prometheus.local', 'IP addresses or CIDR'], ['10.0.0.0/33', 'CIDR'], ['10.0.0.1/8/2', 'CIDR'], ['300.1.1.1', 'CIDR']],
    },
    {
      name: 'METRICS_TOKEN',
      pick: (c) => c.metricsToken,
      good: [['0123456789abcdef', '0123456789abcdef'], ['', '']],
      bad: [['short', '16-256 visible ASCII'], ['has a space in the middle', 'without spaces']],
    },
  ];

  for (const v of cases) {
    describe(v.name, () => {
      for (const [raw, parsed] of v.good) {
        it(`accepts "${raw}"`, () => expect(v.pick(loadConfig({ ...valid, [v.name]: raw }))).toEqual(parsed));
      }
      for (const [raw, words] of v.bad) {
        it(`rejects "${raw}" and names ${v.name}`, () => {
          const problems = problemsOf({ ...valid, [v.name]: raw });
          expect(problems).toHaveLength(1);
          expect(problems[0]).toStartWith(`${v.name} `);
          expect(problems[0]).toContain(words);
          expect(problems[0]).not.toContain('\n');
        });
      }
    });
  }

  it('reports every missing required variable of serve, one line each', () => {
    expect(problemsOf({})).toEqual([
      'BITRIX24_CLIENT_ID is required',
      'BITRIX24_CLIENT_SECRET is required',
      'APP_SECRET is required (32+ random characters)',
    ]);
  });

  it('lets migrate run without app credentials', () => {
    expect(problemsOf({ DATABASE_URL: 'sqlite:/tmp/x.db' }, 'migrate')).toEqual([]);
  });
});

describe('configSummary', () => {
  it('lists the settings and only says whether each secret is set', () => {
    const secrets = {
      BITRIX24_CLIENT_SECRET: 'client-secret-never-logged',
      APP_SECRET: 'app-secret-never-logged-0123456789abcdef',
      DATABASE_URL: 'postgres://b24app:db-password-never-logged@db.example:5432/b24app?sslmode=require&sslpassword=key-pass-never-logged',
      METRICS_TOKEN: 'metrics-token-never-logged',
    };
    const summary = configSummary(loadConfig({ ...valid, ...secrets, METRICS_ALLOW: '10.0.0.0/8', TRUST_PROXY: '1' }));
    const text = JSON.stringify(summary);
    for (const value of [...Object.values(secrets), 'db-password-never-logged', 'key-pass-never-logged']) expect(text).not.toContain(value);
    expect(summary).toMatchObject({
      client_id: valid.BITRIX24_CLIENT_ID,
      client_secret: '[redacted]',
      app_secret: '[redacted]',
      metrics_token: '[redacted]',
      metrics_allow: ['loopback', '10.0.0.0/8'],
      trust_proxy: 1,
      log_format: 'json',
    });
    expect(summary.database).toBe('postgres://b24app:***@db.example:5432/b24app?sslmode=require&sslpassword=***');
    expect(configSummary(loadConfig(valid)).metrics_token).toBe('[not set]');
  });
});
