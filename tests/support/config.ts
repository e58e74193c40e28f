import { loadConfig, type Config } from '../../src/config.ts';

export const TEST_APP_SECRET = 'test-app-secret-0123456789abcdef0123456789';

/** A valid serve configuration for tests; override any variable by name. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig(
    {
      BITRIX24_CLIENT_ID: 'local.0123456789abcd.12345678',
      BITRIX24_CLIENT_SECRET: 'test-client-secret',
      APP_SECRET: TEST_APP_SECRET,
      DATABASE_URL: 'sqlite::memory:',
      PUBLIC_URL: 'http://localhost:3000',
      ...env,
    },
    'serve',
  );
}
