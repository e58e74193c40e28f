/**
 * What no answer may contain, whatever was asked: a 5xx, or anything that tells an attacker how the
 * server is built (a stack trace, a source path or line, the working directory, Bun's own error
 * page). Shared by the fuzz suite and the hostile-input tests.
 */
import { join } from 'node:path';

const ROOT = join(import.meta.dir, '..', '..');

const LEAKS: [what: string, pattern: RegExp][] = [
  ['the working directory', new RegExp(ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))],
  ['a /work/ path', /\/work\//],
  ['a src/ path', /\bsrc\/[\w./-]*/],
  ['a source file and line', /\.tsx?:\d+/],
  ['node_modules', /node_modules/],
  ['a stack frame', /\n\s*at [^\n]*[:(]\d+(:\d+)?\)?/],
  ["Bun's error banner", /Bun v\d+\.\d+/],
];

/** The first internal detail found in `text`, named, or null. */
export function leakIn(text: string): string | null {
  for (const [what, pattern] of LEAKS) {
    const m = pattern.exec(text);
    if (m) return `${what} (${JSON.stringify(m[0].slice(0, 60))})`;
  }
  return null;
}

/**
 * Why this answer is unacceptable, or null. `raw` answers (bare-socket requests with broken framing)
 * may be a closed connection without an HTTP answer; `served` bodies (a real asset) are our own
 * JavaScript and exempt from the source-text check.
 */
export function problemWith(answer: { status: number; text: string; timedOut?: boolean }, opts: { raw?: boolean; served?: boolean } = {}): string | null {
  if (answer.timedOut) return 'no answer in time';
  if (answer.status === 0 && !opts.raw) return 'no HTTP answer';
  const leak = opts.served ? null : leakIn(answer.text);
  if (answer.status >= 500) return `status ${answer.status}${leak ? `, body shows ${leak}` : ''}`;
  return leak ? `body shows ${leak}` : null;
}
