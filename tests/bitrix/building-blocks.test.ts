/** The pure parts: the client-side bucket, PHP-style query strings, batch references and sections. */
import { describe, expect, it } from 'bun:test';
import { createLeakyBucket } from '../../src/bitrix/leaky-bucket.ts';
import { encodeQuery } from '../../src/bitrix/query-string.ts';
import { resolveReferences } from '../../src/bitrix/batch-references.ts';
import { runBatch } from '../../src/bitrix/batch-runner.ts';
import { isReadMethod } from '../../src/bitrix/method-kind.ts';
import type { RestParams } from '../../src/bitrix/types.ts';

describe('leaky bucket', () => {
  it('lets a burst through, then spaces requests at the drain rate', () => {
    let t = 0;
    const b = createLeakyBucket({ rate: 2, burst: 5 }, () => t);
    expect(Array.from({ length: 5 }, () => b.reserve())).toEqual([0, 0, 0, 0, 0]);
    expect([b.reserve(), b.reserve(), b.reserve()]).toEqual([500, 1000, 1500]);
    t = 10_000;
    expect(b.reserve()).toBe(0);
  });

  it('fill() makes the next request wait one drain interval', () => {
    let t = 0;
    const b = createLeakyBucket({ rate: 4, burst: 10 }, () => t);
    b.fill();
    expect(b.reserve()).toBe(250);
  });
});

describe('encodeQuery', () => {
  it('writes nested params the way PHP reads them, leaving references readable', () => {
    expect(encodeQuery({ FILTER: { '>ID': 5, NAME: 'Иван & Co' }, select: ['ID', 'NAME'], ok: true, none: null, skip: undefined }))
      .toBe('FILTER[%3EID]=5&FILTER[NAME]=%D0%98%D0%B2%D0%B0%D0%BD%20%26%20Co&select[0]=ID&select[1]=NAME&ok=1&none=');
    expect(encodeQuery({ ID: '$result[u][0][ID]' })).toBe('ID=$result[u][0][ID]');
  });
});

describe('batch references', () => {
  const known = new Map<string, unknown>([['u', [{ ID: '7', TAGS: ['a'] }]]]);
  it('substitutes raw values for whole parameters and text inside strings; leaves unknown paths', () => {
    const out = resolveReferences({ id: '$result[u][0][ID]', tags: '$result[u][0][TAGS]', note: 'user $result[u][0][ID]!', miss: '$result[x][0]', deep: '$result[u][9][ID]' } as RestParams, known);
    expect(out).toEqual({ id: '7', tags: ['a'], note: 'user 7!', miss: '$result[x][0]', deep: '$result[u][9][ID]' });
  });
});

describe('runBatch', () => {
  it('chunks by 50, normalises PHP [] sections, resolves cross-chunk references, and honours halt', async () => {
    const sent: RestParams[] = [];
    const send = async (params: RestParams) => {
      sent.push(params);
      const cmd = params.cmd as Record<string, string>;
      const keys = Object.keys(cmd);
      if (sent.length === 1) return { result: { result: keys.map((k) => ({ n: Number(k) })), result_error: [], result_total: [], result_next: [], result_time: [] } };
      return { result: { result: { [keys[0]!]: 'x' }, result_error: { [keys[1]!]: { error: 'ERROR_CORE', error_description: 'boom' } }, result_total: [], result_next: [], result_time: [] } };
    };
    const commands = Array.from({ length: 120 }, (_, i) => ['m.get', i === 50 ? { ref: '$result[3][n]' } : { i }] as const);
    const out = await runBatch(send, commands, { halt: true });
    expect(sent.length).toBe(2);
    expect(Object.keys(sent[0]!.cmd as object).length).toBe(50);
    expect((sent[1]!.cmd as Record<string, string>)['50']).toBe('m.get?ref=3');
    expect(out.get('3')).toEqual({ ok: true, result: { n: 3 } });
    expect(out.get('50')).toEqual({ ok: true, result: 'x' });
    expect(out.get('51')).toMatchObject({ ok: false, error: { code: 'ERROR_CORE', method: 'm.get' } });
    expect(out.get('52')).toMatchObject({ ok: false, error: { code: 'BATCH_HALTED' } });
    expect(out.get('119')).toMatchObject({ ok: false, error: { code: 'BATCH_HALTED' } });
  });
});

describe('isReadMethod', () => {
  it('treats list/get/current as reads and anything unknown as a write', () => {
    for (const m of ['user.get', 'crm.deal.list', 'user.current', 'profile', 'app.info', 'event.get', 'placement.get']) expect(isReadMethod(m)).toBe(true);
    for (const m of ['calendar.event.add', 'event.bind', 'crm.deal.update', 'placement.bind', 'something.odd']) expect(isReadMethod(m)).toBe(false);
  });
});
