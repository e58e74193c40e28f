/**
 * The logger: one line per event on stdout, JSON (what `serve` writes, for machines) or `pretty`
 * (what `dev` writes, for a human at a terminal: time, level, message, then key=value). Callers pass
 * structured fields; nothing here formats secrets, and `redact` drops the keys that carry credentials
 * if a caller passes one by mistake.
 */
import { systemClock } from './clock.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_KEY = /token|secret|auth_id|refresh_id|authorization|password|cookie|^auth$|^code$/i;

export function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  copyRedacted(out, fields);
  return out;
}

/**
 * Whether a key names a credential, remembered per key: the keys are the code's own, a few dozen, and
 * every access-log line passes eleven of them, which need not be matched against a pattern each time.
 * Bounded all the same: past the bound a key is tested every time.
 */
const secretKeys = new Map<string, boolean>();
const SECRET_KEYS_KEPT = 1000;
function isSecretKey(key: string): boolean {
  let secret = secretKeys.get(key);
  if (secret === undefined) {
    secret = SECRET_KEY.test(key);
    if (secretKeys.size < SECRET_KEYS_KEPT) secretKeys.set(key, secret);
  }
  return secret;
}

/** Copies `from` into `into`, credentials redacted by key; true when every value copied is a primitive. */
function copyRedacted(into: LogFields, from: LogFields): boolean {
  let primitive = true;
  for (const k in from) {
    const v = from[k];
    if (isSecretKey(k)) into[k] = '[redacted]';
    else {
      into[k] = v;
      if (typeof v === 'object' && v !== null) primitive = false;
    }
  }
  return primitive;
}

export interface LoggerOptions {
  /** Where each finished line goes (without its newline); default stdout. */
  write?: (line: string) => void;
  format?: LogFormat;
  /** Fields every line carries. */
  base?: LogFields;
  nowMs?: () => number;
}

const errorsAsText = (_key: string, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : v);

/** `key=value` as a human reads it: bare words bare, anything with spaces or quotes as JSON. */
function prettyValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(`${v.name}: ${v.message}`);
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v, errorsAsText) ?? String(v);
}

function prettyLine(time: string, level: LogLevel, msg: string, fields: LogFields): string {
  let line = `${time.slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${msg}`;
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${prettyValue(v)}`;
  return line;
}

/**
 * Lines gathered and written together: at most `flushMs` after the first line of a batch, at once when
 * the batch passes `maxBytes`, and synchronously when the process exits (a shutdown, `process.exit`),
 * so nothing logged before an exit is lost. A write per line costs the request path a third of its
 * throughput at load (issue 15); a crash that kills the process outright loses at most `flushMs` of lines.
 */
export function createBufferedWriter(
  sink: (chunk: string) => void,
  opts: { flushMs?: number; maxBytes?: number; schedule?: (flush: () => void, ms: number) => void } = {},
): { write(line: string): void; flush(): void } {
  const flushMs = opts.flushMs ?? 100;
  const maxBytes = opts.maxBytes ?? 64 * 1024;
  const schedule = opts.schedule ?? ((flush, ms) => setTimeout(flush, ms).unref());
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending) return;
    const chunk = pending;
    pending = '';
    sink(chunk);
  };
  return {
    write(line) {
      pending += line + '\n';
      if (pending.length >= maxBytes) flush();
      else if (!scheduled) {
        scheduled = true;
        schedule(flush, flushMs);
      }
    },
    flush,
  };
}

/** stdout through a buffered writer, flushed synchronously when the process exits. */
function stdoutWriter(): (line: string) => void {
  const out = createBufferedWriter((chunk) => process.stdout.write(chunk));
  process.once('exit', () => {
    try {
      out.flush();
    } catch {
      // stdout is gone: nothing left to tell
    }
  });
  return out.write;
}

export function createLogger(level: LogLevel = 'info', opts: LoggerOptions = {}): Logger {
  const { write = stdoutWriter(), format = 'json', base = {}, nowMs = systemClock.nowMs } = opts;
  // Lines written within one millisecond share its ISO text (under load, dozens of them).
  let lastMs = NaN;
  let lastTime = '';
  const isoTime = () => {
    const ms = nowMs();
    if (ms !== lastMs) {
      lastMs = ms;
      lastTime = new Date(ms).toISOString();
    }
    return lastTime;
  };
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (rank[lvl] < rank[level]) return;
    const time = isoTime();
    const record: LogFields = format === 'pretty' ? {} : { time, level: lvl, msg };
    let primitive = copyRedacted(record, base);
    if (fields && !copyRedacted(record, fields)) primitive = false;
    if (format === 'pretty') return write(prettyLine(time, lvl, msg, record));
    // A replacer takes JSON.stringify off its fast path: only lines with objects (errors) need it.
    write(JSON.stringify(record, primitive ? undefined : errorsAsText));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(level, { write, format, base: { ...base, ...fields }, nowMs }),
  };
}

/** A logger that keeps lines in memory: tests assert on what would have been written. */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger(level, { write: (l) => lines.push(l) }), { lines });
}
