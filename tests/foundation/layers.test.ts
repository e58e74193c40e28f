/**
 * The layer rules, checked over the import graph of src/ and views/ (relative imports, as written):
 * the core (domain) knows nothing of HTTP, storage, Bitrix24 or auth; the store knows nothing above it;
 * views render domain values only; the emulator imports nothing of the app; and no file imports itself
 * back through others (no cycles). A new upward import fails here, naming the file and the import.
 */
import { describe, expect, it } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const root = join(import.meta.dir, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT = /^\s*(?:import|export)\s[^;]*?\sfrom\s+'(\.[^']+)'/gms;

/** file -> the source files it imports (relative imports of .ts/.tsx only). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of [...sourceFiles('src'), ...sourceFiles('views')]) {
    const text = readFileSync(join(root, file), 'utf8');
    const targets = [...text.matchAll(IMPORT)].map((m) => normalize(join(dirname(file), m[1]!))).filter((t) => /\.tsx?$/.test(t));
    graph.set(file, targets);
  }
  return graph;
}

/** The area of a file: `views`, or the folder under src/ (`domain`, `http`, …), or `src` for src/*.ts. */
const areaOf = (file: string) => {
  const parts = file.split('/');
  if (parts[0] === 'views') return 'views';
  // The clock is a leaf every layer may read the time from (it imports nothing; checked below).
  if (file === 'src/clock.ts') return 'clock';
  return parts.length > 2 ? parts[1]! : 'src';
};

const forbidden: Record<string, string[]> = {
  domain: ['http', 'store', 'bitrix', 'auth', 'integrations', 'emulator', 'cli', 'views', 'src'],
  store: ['http', 'bitrix', 'auth', 'integrations', 'emulator', 'cli', 'views'],
  views: ['http', 'store', 'bitrix', 'auth', 'integrations', 'emulator', 'cli', 'src'],
  emulator: ['domain', 'http', 'store', 'bitrix', 'auth', 'integrations', 'cli', 'views', 'src'],
  bitrix: ['http', 'auth', 'integrations', 'emulator', 'cli', 'views'],
};

describe('the layers', () => {
  const graph = importGraph();

  it('reads every source file', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect([...graph.values()].flat().length).toBeGreaterThan(300);
  });

  it('import only downwards', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        if (forbidden[areaOf(file)]?.includes(areaOf(target))) upward.push(`${file} -> ${relative(root, join(root, target))}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('keep the clock a leaf', () => {
    expect(graph.get('src/clock.ts')).toEqual([]);
  });

  it('have no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      for (const t of graph.get(file) ?? []) visit(t, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
