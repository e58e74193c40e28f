import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { rest, type EmulatedPortal } from '../support/emulator-client.ts';
import { startTestBed, type TestBed } from '../support/test-bed.ts';

let bed: TestBed;
let portal: EmulatedPortal;
let admin: string;

beforeAll(async () => {
  bed = await startTestBed({ burst: 10_000 });
  portal = await bed.emu.createPortal({ users: 120 });
  admin = (await bed.emu.install(portal.member_id)).launch.form.AUTH_ID ?? '';
});
afterAll(() => bed.stop());

const batch = (params: Record<string, unknown>) => rest(portal.client_endpoint, 'batch', params, admin);

describe('batch', () => {
  it('runs named commands and reports result, result_total, result_next and result_time; empty sections are []', async () => {
    const { status, body } = await batch({ halt: 0, cmd: { me: 'user.current', page: 'user.get?start=50' } });
    expect(status).toBe(200);
    expect(body.result.result.me.ID).toBe('1');
    expect(body.result.result.page).toHaveLength(50);
    expect(body.result.result_error).toEqual([]);
    expect(body.result.result_total).toEqual({ page: 120 });
    expect(body.result.result_next).toEqual({ page: 100 });
    expect(Object.keys(body.result.result_time)).toEqual(['me', 'page']);
    expect(body.time).toBeDefined();
  });

  it('answers lists for array commands, and index-keyed objects when some failed', async () => {
    const ok = await batch({ cmd: ['profile', 'user.admin'] });
    expect(ok.body.result.result).toEqual([expect.objectContaining({ ID: '1' }), true]);
    const mixed = await batch({ cmd: ['profile', 'no.such.method', 'user.admin'] });
    expect(mixed.status).toBe(200);
    expect(mixed.body.result.result).toEqual({ '0': expect.any(Object), '2': true });
    expect(mixed.body.result.result_error).toEqual({ '1': { error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' } });
  });

  it('halt=1 stops at the first failure; halt=0 runs on', async () => {
    const cmd = { a: 'profile', b: 'calendar.event.add?type=user', c: 'user.admin' };
    const halted = await batch({ halt: 1, cmd });
    expect(Object.keys(halted.body.result.result)).toEqual(['a']);
    expect(Object.keys(halted.body.result.result_error)).toEqual(['b']);
    const running = await batch({ halt: 0, cmd });
    expect(Object.keys(running.body.result.result)).toEqual(['a', 'c']);
  });

  it('replaces $result[...] references: whole values raw, inside strings as text', async () => {
    const { body } = await batch({
      cmd: {
        first: 'user.get?FILTER[ID]=7',
        same: 'user.get?FILTER[ID]=$result[first][0][ID]',
        name: 'user.get?FILTER[%NAME]=$result[first][0][NAME]',
        unknown: 'user.get?FILTER[ID]=$result[nope][0][ID]',
      },
    });
    expect(body.result.result.same.map((u: any) => u.ID)).toEqual(['7']);
    expect(body.result.result.name.map((u: any) => u.ID)).toContain('7');
    expect(body.result.result.unknown).toEqual([]);
  });

  it('accepts the classic form encoding (cmd[key]=method?params, double-encoded)', async () => {
    const body = new URLSearchParams({ auth: admin, halt: '0', 'cmd[u]': 'user.get?FILTER%5BID%5D=3', 'cmd[p]': 'profile' });
    const res = await fetch(`${portal.client_endpoint}batch.json`, { method: 'POST', body });
    const json = (await res.json()) as any;
    expect(json.result.result.u[0].ID).toBe('3');
    expect(json.result.result.p.ID).toBe('1');
  });

  it('runs the first 50 commands and gives each extra one ERROR_BATCH_LENGTH_EXCEEDED', async () => {
    const cmd = Object.fromEntries(Array.from({ length: 53 }, (_, i) => [`c${i}`, 'user.admin']));
    const { status, body } = await batch({ cmd });
    expect(status).toBe(200);
    expect(Object.keys(body.result.result)).toHaveLength(50);
    expect(Object.keys(body.result.result_error)).toEqual(['c50', 'c51', 'c52']);
    expect(body.result.result_error.c50.error).toBe('ERROR_BATCH_LENGTH_EXCEEDED');
  });

  it('does not allow batch inside batch', async () => {
    const { body } = await batch({ cmd: { inner: 'batch?cmd[x]=profile' } });
    expect(body.result.result_error.inner.error).toBe('ERROR_BATCH_METHOD_NOT_ALLOWED');
  });

  it('counts as one request against the bucket and the stats', async () => {
    const before = (await bed.emu.stats(portal.member_id)).rest_calls ?? 0;
    await batch({ cmd: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`c${i}`, 'profile'])) });
    expect((await bed.emu.stats(portal.member_id)).rest_calls).toBe(before + 1);
  });

  it('still needs valid auth for the envelope', async () => {
    const res = await rest(portal.client_endpoint, 'batch', { cmd: { a: 'profile' } });
    expect(res).toMatchObject({ status: 401, body: { error: 'NO_AUTH_FOUND' } });
  });
});
