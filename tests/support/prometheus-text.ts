/**
 * A strict reader of Prometheus' text exposition format (0.0.4), for tests: every line must be a HELP,
 * a TYPE or a sample; each family declares HELP and TYPE once (both, here), before its samples, which
 * follow it together; no series twice; and each histogram series has rising `le` bounds, cumulative counts, a
 * `+Inf` bucket equal to its `_count`, and a `_sum`. Anything else throws, naming the line.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const VALUE = /^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]Inf|NaN)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(raw: string, where: string): number {
  if (!VALUE.test(raw)) throw new Error(`${where}: not a number: ${raw}`);
  return raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
}

/** `{a="x",b="y\"z"}` from position `at` (the brace); the labels and where the text after them starts. */
function parseLabels(line: string, at: number, where: string): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = at + 1;
  while (line[i] !== '}') {
    const eq = line.indexOf('=', i);
    const name = line.slice(i, eq);
    if (eq < 0 || !LABEL_NAME.test(name)) throw new Error(`${where}: bad label name "${name}"`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    if (line[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] !== '\\') {
        value += line[j];
        continue;
      }
      const next = line[++j];
      if (next === 'n') value += '\n';
      else if (next === '\\' || next === '"') value += next;
      else throw new Error(`${where}: bad escape \\${next}`);
    }
    if (j >= line.length) throw new Error(`${where}: unterminated label value`);
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`${where}: expected , or } after a label`);
  }
  return { labels, end: i + 1 };
}

const seriesKey = (name: string, labels: Record<string, string>, skip?: string) =>
  `${name}{${Object.keys(labels).filter((k) => k !== skip).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;

/** The families by name. Throws on the first thing that is not valid exposition text. */
export function parseExposition(text: string): Map<string, MetricFamily> {
  if (!text.endsWith('\n')) throw new Error('the text must end with a newline');
  const families = new Map<string, MetricFamily>();
  const seen = new Set<string>();
  let current: MetricFamily | null = null;
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, n) => {
    const where = `line ${n + 1} (${line.slice(0, 80)})`;
    const comment = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name`);
      let family = families.get(name);
      if (!family) {
        family = { name, help: '', type: '', samples: [] };
        families.set(name, family);
      } else if (family !== current || family.samples.length) throw new Error(`${where}: ${name} declared apart from its family`);
      if (kind === 'HELP') {
        if (family.help) throw new Error(`${where}: second HELP`);
        family.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      } else {
        if (family.type) throw new Error(`${where}: second TYPE`);
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
        family.type = rest;
      }
      current = family;
      return;
    }
    if (line.startsWith('#') || line.trim() === '') throw new Error(`${where}: not a HELP, TYPE or sample line`);
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    const nameEnd = brace >= 0 && brace < space ? brace : space;
    const name = line.slice(0, nameEnd);
    if (!NAME.test(name)) throw new Error(`${where}: bad sample name`);
    const { labels, end } = nameEnd === brace ? parseLabels(line, brace, where) : { labels: {}, end: nameEnd };
    const rest = line.slice(end).trim().split(' ');
    if (line[end] !== ' ' || rest.length < 1 || rest.length > 2) throw new Error(`${where}: expected a value (and an optional timestamp)`);
    const value = parseValue(rest[0]!, where);
    if (!current) throw new Error(`${where}: sample before any HELP/TYPE`);
    const family: MetricFamily = current;
    const suffixes = family.type === 'histogram' ? ['_bucket', '_sum', '_count'] : family.type === 'summary' ? ['', '_sum', '_count'] : [''];
    if (!suffixes.some((s) => name === family.name + s)) throw new Error(`${where}: sample ${name} outside its family (after ${family.name})`);
    if (!family.help || !family.type) throw new Error(`${where}: ${family.name} lacks HELP or TYPE`);
    const key = seriesKey(name, labels);
    if (seen.has(key)) throw new Error(`${where}: series ${key} twice`);
    seen.add(key);
    family.samples.push({ name, labels, value });
  });
  for (const family of families.values()) {
    if (!family.help || !family.type) throw new Error(`${family.name} lacks HELP or TYPE`);
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

function checkHistogram(family: MetricFamily): void {
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of family.samples) {
    const key = seriesKey(family.name, s.labels, 'le');
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name.endsWith('_bucket')) {
      if (s.labels.le === undefined) throw new Error(`${key}: bucket without le`);
      entry.buckets.push([parseValue(s.labels.le, key), s.value]);
    } else if (s.name.endsWith('_sum')) entry.sum = s.value;
    else entry.count = s.value;
  }
  for (const [key, { buckets, sum, count }] of series) {
    if (sum === undefined || count === undefined) throw new Error(`${key}: _sum or _count missing`);
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]![0] > buckets[i - 1]![0])) throw new Error(`${key}: le bounds do not rise`);
      if (buckets[i]![1] < buckets[i - 1]![1]) throw new Error(`${key}: bucket counts are not cumulative`);
    }
    const last = buckets[buckets.length - 1];
    if (!last || last[0] !== Infinity) throw new Error(`${key}: no +Inf bucket`);
    if (last[1] !== count) throw new Error(`${key}: +Inf bucket ${last[1]} is not _count ${count}`);
  }
}

/** The value of the one sample `name` whose labels include `labels`; undefined when none, an error when several. */
export function sampleValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const familyName = name.replace(/_(bucket|sum|count)$/, '');
  const family = families.get(name) ?? families.get(familyName);
  const found = (family?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

/** Every sample of every family, for checks over all labels. */
export const allSamples = (families: Map<string, MetricFamily>): Sample[] => [...families.values()].flatMap((f) => f.samples);
