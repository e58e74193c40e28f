/**
 * The XSS scanner is a gate only if it fails on the mistake it is there for. CI already runs it over
 * the real views (`npm run xss`); this test proves it would catch an unescaped user field in a view
 * shaped like ours, and passes the same view once it is `safe`. The views live in a temp project
 * (with our node_modules linked) so the repository's own scan never sees them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../support/temp.ts';

const root = resolve(import.meta.dir, '../..');
const dir = tempDir('b24app-xss-');

const view = (body: string) => `
export interface Row { name: string; notes: string }
export function ItemRow({ item }: { item: Row }) {
  return (
    <li class="item-row">
      ${body}
    </li>
  );
}
`;

beforeAll(() => {
  symlinkSync(join(root, 'node_modules'), dir.file('node_modules'));
  writeFileSync(
    dir.file('tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ESNext',
        module: 'ESNext',
        moduleResolution: 'bundler',
        strict: true,
        skipLibCheck: true,
        noEmit: true,
        jsx: 'react-jsx',
        jsxImportSource: '@kitajs/html',
        plugins: [{ name: '@kitajs/ts-html-plugin' }],
      },
      include: ['*.tsx'],
    }),
  );
  writeFileSync(dir.file('unsafe-text.tsx'), view('<h2 class="item-row__name">{item.name}</h2>'));
  writeFileSync(dir.file('unsafe-child.tsx'), view('<p>{item.notes.toUpperCase()}</p>'));
  writeFileSync(dir.file('safe.tsx'), view('<h2 class="item-row__name" safe>{item.name}</h2><button aria-label={item.name}>x</button>'));
});
afterAll(() => dir.cleanup());

function scan(...files: string[]) {
  const p = Bun.spawnSync([join(root, 'node_modules/.bin/xss-scan'), '-p', dir.file('tsconfig.json'), '--cwd', dir.path, ...files], {
    cwd: dir.path,
    stdout: 'pipe',
    stderr: 'pipe',
  });
  return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
}

describe('xss-scan', () => {
  it('fails on an unescaped user field, naming each file', () => {
    const r = scan('unsafe-text.tsx', 'unsafe-child.tsx');
    expect(r.code).toBe(1);
    expect(r.out).toContain('unsafe-text.tsx');
    expect(r.out).toContain('unsafe-child.tsx');
    expect(r.out).toMatch(/xss|safe/i);
  });

  it('passes the same view with `safe`', () => {
    const r = scan('safe.tsx');
    expect(r.out).not.toMatch(/error/i);
    expect(r.code).toBe(0);
  });
});
