import { describe, expect, it } from 'bun:test';
import { createRegistry } from '../../src/metrics/registry.ts';
import { parseExposition, sampleValue } from '../support/prometheus-text.ts';

describe('the metrics registry', () => {
  it('renders counters, gauges and histograms as valid exposition text', async () => {
    const r = createRegistry();
    const requests = r.counter('app_requests_total', 'Requests.', ['route', 'status']);
    requests.labels('/api/items/:id', 200).inc();
    requests.labels('/api/items/:id', 200).inc(2);
    requests.labels('/api/items', 404).inc();
    r.gauge('app_temperature', 'A gauge.').labels().set(-1.5);
    const h = r.histogram('app_seconds', 'Durations.', [0.1, 1, 10], ['route']).labels('/x');
    for (const v of [0.05, 0.1, 0.5, 3, 100]) h.observe(v);
    const families = parseExposition(await r.scrape());
    expect(families.get('app_requests_total')).toMatchObject({ type: 'counter', help: 'Requests.' });
    expect(sampleValue(families, 'app_requests_total', { route: '/api/items/:id', status: '200' })).toBe(3);
    expect(sampleValue(families, 'app_requests_total', { route: '/api/items', status: '404' })).toBe(1);
    expect(sampleValue(families, 'app_temperature')).toBe(-1.5);
    // le is an upper bound, inclusive; the counts are cumulative.
    expect([0.1, 1, 10].map((le) => sampleValue(families, 'app_seconds_bucket', { le: String(le) }))).toEqual([2, 3, 4]);
    expect(sampleValue(families, 'app_seconds_bucket', { le: '+Inf' })).toBe(5);
    expect(sampleValue(families, 'app_seconds_count')).toBe(5);
    expect(sampleValue(families, 'app_seconds_sum')).toBeCloseTo(103.65, 10);
  });

  it('escapes label values and help text', async () => {
    const r = createRegistry();
    r.counter('odd_total', 'Back\\slash and\nnewline.', ['v']).labels('a"b\\c\nd').inc();
    const text = await r.scrape();
    expect(text).toContain('odd_total{v="a\\"b\\\\c\\nd"} 1');
    const families = parseExposition(text);
    expect(families.get('odd_total')!.help).toBe('Back\\slash and\nnewline.');
    expect(families.get('odd_total')!.samples[0]!.labels.v).toBe('a"b\\c\nd');
  });

  it('puts series past the cap into one series labelled other', async () => {
    const r = createRegistry();
    const f = r.counter('many_total', 'Many.', ['id']);
    for (let i = 0; i < 2100; i++) f.labels(`id-${i}`).inc();
    const families = parseExposition(await r.scrape());
    expect(families.get('many_total')!.samples).toHaveLength(2001);
    expect(sampleValue(families, 'many_total', { id: 'other' })).toBe(100);
    expect(sampleValue(families, 'many_total', { id: 'id-1999' })).toBe(1);
  });

  it('runs the scrape-time collectors before rendering', async () => {
    const r = createRegistry();
    const g = r.gauge('read_at_scrape', 'Set on scrape.').labels();
    let reads = 0;
    r.beforeScrape(() => g.set(++reads));
    expect(sampleValue(parseExposition(await r.scrape()), 'read_at_scrape')).toBe(1);
    expect(sampleValue(parseExposition(await r.scrape()), 'read_at_scrape')).toBe(2);
  });

  it('refuses names Prometheus would not accept, duplicates and falling buckets', () => {
    const r = createRegistry();
    r.counter('ok_total', 'x');
    expect(() => r.counter('ok_total', 'x')).toThrow();
    expect(() => r.counter('bad-name', 'x')).toThrow();
    expect(() => r.counter('c_total', 'x', ['le'])).toThrow();
    expect(() => r.histogram('h', 'x', [1, 0.5])).toThrow();
  });
});

describe('the exposition reader used by these tests', () => {
  const valid = '# HELP a_total A.\n# TYPE a_total counter\na_total 1\n';
  it('accepts valid text and rejects what Prometheus would reject', () => {
    expect(sampleValue(parseExposition(valid), 'a_total')).toBe(1);
    const invalid = [
      'a_total 1\n', // no HELP/TYPE
      '# HELP a_total A.\na_total 1\n', // no TYPE
      valid.replace('a_total 1', 'a_total one'),
      valid.replace('a_total 1', 'a_total{x="1} 1'),
      valid + 'a_total 2\n', // the same series twice
      valid.slice(0, -1), // no final newline
      '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', // not cumulative
      '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n', // +Inf != count
      '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', // no +Inf
    ];
    for (const text of invalid) expect(() => parseExposition(text)).toThrow();
  });
});
