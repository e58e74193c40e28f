/**
 * What `dev` keeps in the data folder so a restart finds everything as it was: a generated
 * APP_SECRET (mode 0600; stored tokens stay readable) and the emulated portal's member_id (the
 * developer's items stay on the same portal).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function keptValue(dataDir: string, name: string, make: () => string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const value = make();
  writeFileSync(file, value + '\n', { mode: 0o600 });
  return value;
}

export const devAppSecret = (dataDir: string): string => keptValue(dataDir, 'app-secret', () => randomBytes(32).toString('base64url'));

export const devPortalMemberId = (dataDir: string): string => keptValue(dataDir, 'dev-portal-member-id', () => randomBytes(16).toString('hex'));
