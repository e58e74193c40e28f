/** What the app's database holds for one portal, for tests that must see nothing change (or all go). */
import type { Stack } from './stack.ts';
import type { EmulatedPortal } from './emulator-client.ts';

export interface PortalRows {
  status: string;
  hash: string | null;
  items: number;
  users: number;
  /** Open sessions (an uninstall closes them: they answer "not installed" until they expire). */
  sessions: number;
  tokens: number;
}

export async function portalRows(s: Pick<Stack, 'sqlOne'>, memberId: string): Promise<PortalRows | null> {
  const portal = await s.sqlOne<{ id: number; status: string; application_token_hash: string | null }>(
    'SELECT id, status, application_token_hash FROM portals WHERE member_id = ?',
    [memberId],
  );
  if (!portal) return null;
  const n = async (table: string, where = '') => (await s.sqlOne<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE portal_id = ? ${where}`, [portal.id]))!.n;
  return {
    status: portal.status,
    hash: portal.application_token_hash,
    items: await n('items'),
    users: await n('users'),
    sessions: await n('sessions', 'AND NOT closed'),
    tokens: await n('portal_tokens'),
  };
}

/** Every token row, ciphertexts included: any write to any of them shows. */
export const tokenRows = (s: Pick<Stack, 'sql'>) => s.sql('SELECT * FROM portal_tokens ORDER BY id');

/** An ONAPPUNINSTALL as Bitrix24 posts it (no tokens, only the application_token). */
export const uninstallEvent = (p: EmulatedPortal, token: string | null, clean = '1', ts = Math.floor(Date.now() / 1000)) => ({
  event: 'ONAPPUNINSTALL',
  'data[LANGUAGE_ID]': 'en',
  'data[CLEAN]': clean,
  ts: String(ts),
  'auth[domain]': p.domain,
  'auth[member_id]': p.member_id,
  'auth[client_endpoint]': p.client_endpoint,
  ...(token === null ? {} : { 'auth[application_token]': token }),
});

export function postForm(appUrl: string, path: string, fields: Record<string, string>): Promise<Response> {
  return fetch(`${appUrl}${path}`, { method: 'POST', body: new URLSearchParams(fields) });
}
