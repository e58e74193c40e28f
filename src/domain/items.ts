/**
 * Business rules for items, independent of HTTP, storage and language: what a valid item is, how ids
 * and cursors look, how names are folded for search. Validation returns a problem code per field;
 * the edges turn codes into text (the API in English, the cabinet in the user's language).
 */
import { randomBytes } from 'node:crypto';
import type { ItemCursor, ItemInput } from './item-port.ts';
import type { ItemStatus } from './types.ts';
import { AppError } from './errors.ts';

export const NAME_MAX = 200;
/** C0 controls and DEL, except tab, line feed and carriage return. */
export const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
export const DATA_MAX_BYTES = 16 * 1024;
export const PAGE_MAX = 100;
export const PAGE_DEFAULT = 20;

/** What a caller proposes, before the rules: times as unix seconds or null. */
export interface ItemDraft {
  name: unknown;
  data?: unknown;
  status?: unknown;
  startsAt?: number | null;
  endsAt?: number | null;
}

/** What is wrong with one field. Text for each lives in views/view-model.ts (dictionary keys). */
export type FieldIssue =
  | 'name_required'
  | 'name_too_long'
  /** A character nobody types (NUL and the other C0 controls but tab and line breaks): PostgreSQL cannot even store NUL. */
  | 'name_control_characters'
  | 'data_not_object'
  | 'data_too_large'
  | 'status_invalid'
  | 'end_before_start'
  | 'start_required_for_end'
  | 'start_required_for_calendar'
  | 'not_a_date'
  | 'item_limit_reached';

export type FieldErrors = Record<string, FieldIssue>;

/**
 * The form of a name that search compares: lower case, and ё read as е (Russian writes «отчет» for
 * «отчёт» as often as not), whether ё is one code point or е + combining diaeresis. Migration 004 applies
 * the ё rule to rows stored before it, whose fold was already lower case.
 */
export const foldForSearch = (text: string): string => text.toLowerCase().replace(/\u0435\u0308/g, 'е').replace(/ё/g, 'е');

export const isStatus = (s: unknown): s is ItemStatus => s === 'active' || s === 'archived';

/** Applies the rules; returns the clean input or the per-field problems (field names as in the API). */
export function validateItem(draft: ItemDraft): { ok: true; input: ItemInput } | { ok: false; fields: FieldErrors } {
  const fields: FieldErrors = {};
  const name = typeof draft.name === 'string' ? draft.name.trim() : '';
  const length = [...name].length;
  if (length === 0) fields.name = 'name_required';
  else if (length > NAME_MAX) fields.name = 'name_too_long';
  else if (CONTROL_CHARACTERS.test(name)) fields.name = 'name_control_characters';

  let data: Record<string, unknown> | null = null;
  if (draft.data !== undefined && draft.data !== null) {
    if (typeof draft.data !== 'object' || Array.isArray(draft.data)) fields.data = 'data_not_object';
    else if (Buffer.byteLength(JSON.stringify(draft.data)) > DATA_MAX_BYTES) fields.data = 'data_too_large';
    else data = draft.data as Record<string, unknown>;
  }

  const status = draft.status ?? 'active';
  if (!isStatus(status)) fields.status = 'status_invalid';

  const startsAt = draft.startsAt ?? null;
  const endsAt = draft.endsAt ?? null;
  if (startsAt !== null && endsAt !== null && endsAt < startsAt) fields.ends_at = 'end_before_start';
  if (endsAt !== null && startsAt === null) fields.starts_at = 'start_required_for_end';

  if (Object.keys(fields).length) return { ok: false, fields };
  return { ok: true, input: { name, data, status: status as ItemStatus, startsAt, endsAt } };
}

export function requireValidItem(draft: ItemDraft): ItemInput {
  const r = validateItem(draft);
  if (!r.ok) throw new AppError('unprocessable', 'Some fields are invalid.', { fields: r.fields });
  return r.input;
}

/**
 * Time-ordered ids (milliseconds in base32hex + 64 bits in hex): newest sorts last, nothing guessable.
 * Monotonic per generator, like ULID's monotonic mode: several ids in one millisecond (easy on
 * loopback) take the previous random part plus a small random step, so "newest first" holds for them
 * too. The app builds one generator (createApp); its state is not module-wide.
 */
const RAND_TOP = (1n << 64n) - 1n;

export type ItemIds = () => string;

export function createItemIds(nowMs: () => number): ItemIds {
  let lastMs = -1;
  let lastRand = 0n;
  return () => {
    let ms = nowMs();
    const step = BigInt(randomBytes(2).readUInt16BE() + 1);
    if (ms <= lastMs && lastRand + step <= RAND_TOP) {
      ms = lastMs;
      lastRand += step;
    } else {
      // A fresh millisecond starts in the lower half, leaving room for the steps of the ids that follow.
      lastMs = Math.max(ms, lastMs + 1);
      ms = lastMs;
      lastRand = randomBytes(8).readBigUInt64BE() >> 1n;
    }
    return ms.toString(32).padStart(10, '0') + lastRand.toString(16).padStart(16, '0');
  };
}

/** The shape of an id made by createItemIds (a form proposes one; anything else is ignored). */
export const isItemId = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-v]{10}[0-9a-f]{16}$/.test(s);

/** Cursors are opaque to clients: base64url of "createdAt:id". */
export function encodeCursor(c: ItemCursor): string {
  return Buffer.from(`${c.createdAt}:${c.id}`).toString('base64url');
}

export function decodeCursor(raw: string): ItemCursor {
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  const m = /^(\d{1,12}):([0-9a-v]{10}[0-9a-f]{16})$/.exec(text);
  if (!m) throw new AppError('invalid', 'The cursor is not valid.', { fields: { cursor: 'Not a cursor from this API.' } });
  return { createdAt: Number(m[1]), id: m[2]! };
}

/**
 * ISO 8601 instant -> unix seconds; null for empty; undefined when unparsable or without a time zone
 * (Z or ±hh:mm). A zoneless time names no instant: read as the server's local time it would move with
 * wherever the server runs.
 */
export function parseInstant(value: unknown): number | null | undefined {
  if (value === null || value === undefined || value === '') return null;
  const m = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i.exec(value) : null;
  if (!m) return undefined;
  // Date.parse rolls calendar overflow over (30 February -> 2 March); such a date is not a date.
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate() || h > 23 || mi > 59) return undefined;
  const ms = Date.parse(value as string);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

export const toIso = (seconds: number | null): string | null => (seconds === null ? null : new Date(seconds * 1000).toISOString());
