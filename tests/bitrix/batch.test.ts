/** batch over the emulator: chunks of 50, `$result[...]` references, per-command errors, halt. */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createBitrix, type BatchCommand, type RestClient } from '../../src/bitrix/index.ts';
import { tempDir } from '../support/temp.ts';
import { CLIENT_ID, CLIENT_SECRET, startWorld, type World } from './helpers/emulator-world.ts';

const dir = tempDir('b24-bitrix-batch-');
let world: World;
let client: RestClient;

beforeAll(async () => {
  world = await startWorld(dir.file('app.db'), { rate: 100, burst: 100 });
  const { portal, owner } = await world.installPortal(20);
  client = createBitrix({ store: world.store, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, oauthServers: [world.oauthUrl], limits: { rate: 100, burst: 100 } }).client(portal, owner);
});
afterAll(async () => {
  await world.stop();
  dir.cleanup();
});

type UserRow = { ID: string; NAME: string };

describe('batch', () => {
  it('120 commands with references (same chunk and across chunks) and one failing command', async () => {
    const commands: Record<string, BatchCommand> = { me: ['user.current'] };
    commands.sameChunk = ['user.get', { ID: '$result[me][ID]' }];
    for (let i = 2; i < 120; i++) commands[`u${i}`] = ['user.get', { ID: (i % 20) + 1 }];
    commands.u30 = ['no.such.method', {}];
    commands.u75 = ['user.get', { ID: '$result[me][ID]' }]; // chunk 2 refers to chunk 1
    commands.u76 = { method: 'user.get', params: { ID: '$result[u60][0][ID]' } };
    const before = await world.emu.stats();

    const out = await client.batch<UserRow[]>(commands);

    const after = await world.emu.stats();
    expect(Object.keys(out).length).toBe(120);
    const failed = Object.entries(out).filter(([, o]) => !o.ok);
    expect(failed.map(([k]) => k)).toEqual(['u30']);
    const bad = out.u30!;
    expect(bad.ok ? null : bad.error.code).toBe('ERROR_METHOD_NOT_FOUND');
    expect(bad.ok ? null : bad.error.method).toBe('no.such.method');
    const me = (await client.call<{ ID: string }>('user.current')).result.ID;
    const idOf = (k: string) => {
      const o = out[k]!;
      return o.ok ? o.result[0]?.ID : undefined;
    };
    expect(idOf('sameChunk')).toBe(me);
    expect(idOf('u75')).toBe(me);
    expect(idOf('u76')).toBe(idOf('u60'));
    expect(idOf('u61')).toBe(String((61 % 20) + 1));
    expect(after.rest_calls - before.rest_calls).toBeLessThanOrEqual(3 * 51); // however the emulator counts, far fewer than one request per command
  });

  it('an array of commands gives an array of outcomes in order', async () => {
    const out = await client.batch<UserRow[]>(Array.from({ length: 60 }, (_, i) => ['user.get', { ID: (i % 20) + 1 }] as const));
    expect(out.length).toBe(60);
    expect(out.map((o) => (o.ok ? o.result[0]?.ID : 'x'))).toEqual(Array.from({ length: 60 }, (_, i) => String((i % 20) + 1)));
  });

  it('halt stops at the first failure, in its chunk and for every later chunk', async () => {
    const commands: BatchCommand[] = Array.from({ length: 120 }, () => ['user.current'] as const);
    commands[10] = ['no.such.method'];
    const out = await client.batch(commands, { halt: true });
    expect(out.slice(0, 10).every((o) => o.ok)).toBe(true);
    expect(out[10]).toMatchObject({ ok: false, error: { code: 'ERROR_METHOD_NOT_FOUND' } });
    expect(out.slice(11).every((o) => !o.ok && o.error.code === 'BATCH_HALTED')).toBe(true);
  });
});
