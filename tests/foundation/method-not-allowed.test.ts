import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { startStack, type Stack } from '../support/stack.ts';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(() => s.stop());

describe('a known path asked with the wrong method', () => {
  it('answers 405 with the methods it does answer in Allow; an unknown path stays 404', async () => {
    const cases: [string, string, string][] = [
      ['PATCH', '/api/items', 'GET, HEAD, POST'],
      ['POST', '/api/items/abc', 'DELETE, GET, HEAD, PUT'],
      ['DELETE', '/events', 'POST'],
      ['PUT', '/health', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await fetch(`${s.appUrl}${path}`, { method });
      expect([method, path, res.status, res.headers.get('allow')]).toEqual([method, path, 405, allow]);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
    }
    expect((await fetch(`${s.appUrl}/no/such/path`, { method: 'PATCH' })).status).toBe(404);
  });
});
