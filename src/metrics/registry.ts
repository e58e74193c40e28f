/**
 * Counters, gauges and histograms in Prometheus' text exposition format (version 0.0.4), small enough
 * to own: the app needs a few dozen series, and a library would bring a registry, collectors and
 * label handling we would still have to bound.
 *
 * The cost model: a series (one set of label values) is made once, the first time its values are
 * seen, with its label text rendered then; after that, finding it is one Map lookup per label (nested
 * Maps, so no key string is built per call) and recording is a few number writes. All the text is
 * built on scrape. Label values must come from a bounded set (route templates, method names from our
 * code, status codes); as a last guard, a family that reaches `maxSeries` puts every new combination
 * into one series whose labels are all `other`.
 */

export type LabelValue = string | number;

export interface Counter {
  inc(by?: number): void;
  get(): number;
}

export interface Gauge {
  set(value: number): void;
  get(): number;
}

export interface Histogram {
  observe(value: number): void;
}

/**
 * A family's series by label values: up to three labels, passed positionally (no array per call).
 * Values are Map keys, so pass each label always as a number or always as a string (200 and '200'
 * would be two series).
 */
export interface Family<S> {
  labels(a?: LabelValue, b?: LabelValue, c?: LabelValue): S;
}

export interface Registry {
  counter(name: string, help: string, labelNames?: readonly string[]): Family<Counter>;
  gauge(name: string, help: string, labelNames?: readonly string[]): Family<Gauge>;
  histogram(name: string, help: string, buckets: readonly number[], labelNames?: readonly string[]): Family<Histogram>;
  /** Runs before each scrape: where gauges read at scrape time (memory, the queue) are set. */
  beforeScrape(collect: () => void | Promise<void>): void;
  /** The exposition text of every family, in the order they were registered. */
  scrape(): Promise<string>;
}

/** The content type Prometheus expects for the text format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const DEFAULT_MAX_SERIES = 2000;
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** Go's ParseFloat reads all of these; JavaScript's shortest round-trip form is exact. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** `name="value",…` for the given label values (the braces are added by the caller). */
function labelText(names: readonly string[], values: readonly LabelValue[]): string {
  return names.map((n, i) => `${n}="${escapeLabel(String(values[i] ?? ''))}"`).join(',');
}

interface FamilyState<S> extends Family<S> {
  render(out: string[]): void;
}

/**
 * The series of one family, found through one nested Map per label. `make` builds a series with its
 * label text; `render` writes one series' lines.
 */
function family<S>(
  header: string,
  labelNames: readonly string[],
  make: (labels: string) => S,
  render: (series: S, out: string[]) => void,
  maxSeries = DEFAULT_MAX_SERIES,
): FamilyState<S> {
  for (const n of labelNames) if (!LABEL_NAME.test(n) || n === 'le') throw new Error(`invalid label name ${n}`);
  if (labelNames.length > 3) throw new Error('at most three labels');
  const arity = labelNames.length;
  const all: S[] = [];
  const root = new Map<LabelValue, unknown>();
  let overflow: S | undefined;
  const create = (a?: LabelValue, b?: LabelValue, c?: LabelValue): S => {
    const series = make(labelText(labelNames, [a ?? '', b ?? '', c ?? ''].slice(0, arity)));
    all.push(series);
    return series;
  };
  const single = arity === 0 ? create() : undefined;

  return {
    labels(a, b, c) {
      if (single) return single;
      let node = root;
      for (let i = 0; i < arity; i++) {
        const value = (i === 0 ? a : i === 1 ? b : c) ?? '';
        const next = node.get(value);
        if (next !== undefined) {
          if (i === arity - 1) return next as S;
          node = next as Map<LabelValue, unknown>;
          continue;
        }
        if (all.length >= maxSeries) return (overflow ??= create('other', 'other', 'other'));
        if (i === arity - 1) {
          const series = create(a, b, c);
          node.set(value, series);
          return series;
        }
        const level = new Map<LabelValue, unknown>();
        node.set(value, level);
        node = level;
      }
      throw new Error('unreachable');
    },
    render(out) {
      // A family nothing has been recorded in yet is left out, HELP and TYPE too.
      if (!all.length) return;
      out.push(header);
      for (const s of all) render(s, out);
    },
  };
}

export function createRegistry(): Registry {
  const families: FamilyState<unknown>[] = [];
  const collectors: (() => void | Promise<void>)[] = [];
  const names = new Set<string>();

  const register = <S>(name: string, help: string, type: string, build: (header: string) => FamilyState<S>): Family<S> => {
    if (!NAME.test(name) || names.has(name)) throw new Error(`invalid or duplicate metric name ${name}`);
    names.add(name);
    const f = build(`# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}`);
    families.push(f as FamilyState<unknown>);
    return f;
  };

  const scalar = (name: string, help: string, type: 'counter' | 'gauge', labelNames: readonly string[]) =>
    register(name, help, type, (header) =>
      family(
        header,
        labelNames,
        (labels) => {
          let value = 0;
          return {
            prefix: labels ? `${name}{${labels}} ` : `${name} `,
            inc: (by = 1) => void (value += by),
            set: (v: number) => void (value = v),
            get: () => value,
          };
        },
        (s, out) => out.push(s.prefix + formatNumber(s.get())),
      ),
    );

  return {
    counter: (name, help, labelNames = []) => scalar(name, help, 'counter', labelNames),
    gauge: (name, help, labelNames = []) => scalar(name, help, 'gauge', labelNames),
    histogram(name, help, buckets, labelNames = []) {
      const bounds = [...buckets];
      if (!bounds.every((b, i) => Number.isFinite(b) && (i === 0 || b > bounds[i - 1]!))) throw new Error(`${name}: buckets must rise`);
      const leTexts = [...bounds.map(formatNumber), '+Inf'];
      return register(name, help, 'histogram', (header) =>
        family(
          header,
          labelNames,
          (labels) => {
            // Per bucket, the observations that fell in it (the last slot: above every bound); made
            // cumulative on scrape, so an observation touches one slot.
            const counts = new Float64Array(bounds.length + 1);
            const series = {
              sum: 0,
              counts,
              bucketPrefixes: leTexts.map((le) => `${name}_bucket{${labels ? `${labels},` : ''}le="${le}"} `),
              sumPrefix: labels ? `${name}_sum{${labels}} ` : `${name}_sum `,
              countPrefix: labels ? `${name}_count{${labels}} ` : `${name}_count `,
              observe(v: number) {
                let i = 0;
                while (i < bounds.length && v > bounds[i]!) i++;
                counts[i]! += 1;
                series.sum += v;
              },
            };
            return series;
          },
          (s, out) => {
            let cumulative = 0;
            for (let i = 0; i < s.counts.length; i++) {
              cumulative += s.counts[i]!;
              out.push(s.bucketPrefixes[i] + formatNumber(cumulative));
            }
            out.push(s.sumPrefix + formatNumber(s.sum));
            out.push(s.countPrefix + formatNumber(cumulative));
          },
        ),
      );
    },
    beforeScrape(collect) {
      collectors.push(collect);
    },
    async scrape() {
      for (const collect of collectors) await collect();
      const out: string[] = [];
      for (const f of families) f.render(out);
      return out.join('\n') + '\n';
    },
  };
}
