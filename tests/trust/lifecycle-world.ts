/**
 * What the lifecycle tests share: an app stack whose clock the test moves (grace periods and deletion
 * delays end on demand), opening the app as a portal user, and the app tokens dying as an idle refresh
 * token does.
 */
import { expect } from 'bun:test';
import type { LaunchParams } from '../support/emulator-client.ts';
import { sessionTokenOf, startStack, type Stack, type StackOptions } from '../support/stack.ts';

export const nowSec = () => Math.floor(Date.now() / 1000);

export type TimedStack = Stack & { clock: { now: number } };

/** A stack whose app clock (unix seconds) the test moves; the caller stops it. */
export async function timedStack(opts: StackOptions = {}): Promise<TimedStack> {
  const clock = { now: nowSec() };
  return Object.assign(await startStack({ now: () => clock.now, ...opts }), { clock });
}

/** Opens the app as the launch's user: the status, the page, and the session token when it opened. */
export async function openApp(s: Stack, l: Pick<LaunchParams, 'url' | 'query' | 'form'>): Promise<{ status: number; html: string; session: string | null }> {
  const res = await s.launch(l);
  const html = await res.text();
  return { status: res.status, html, session: res.status === 200 ? sessionTokenOf(html) : null };
}

export async function createItem(s: Stack, session: string, name: string): Promise<void> {
  const res = await fetch(`${s.appUrl}/api/items`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  expect(res.status).toBe(201);
}

export const portalIdOf = async (s: Stack, memberId: string): Promise<number> =>
  (await s.sqlOne<{ id: number }>('SELECT id FROM portals WHERE member_id = ?', [memberId]))!.id;

/** The app's stored tokens stop working as an idle refresh token does: expired, and refused as invalid_grant. */
export async function killAppTokens(s: Stack, memberId: string): Promise<void> {
  await s.store.tokens.save(await portalIdOf(s, memberId), { kind: 'app' }, 1, {
    accessToken: 'dead-access-token-0000000000000000',
    refreshToken: 'dead-refresh-token-000000000000000',
    expiresAt: 1,
    scope: 'user',
  });
}
