/**
 * The filter and sort grammar of Bitrix24 list methods, enough for user.get: keys carry an operator
 * prefix (`>ID`, `%NAME`, `!ACTIVE`, `@ID`), values arrive as strings (form) or typed (JSON), and an
 * array value means "one of".
 */
import type { Params } from './rest-request.ts';

type Row = Record<string, unknown>;

const OPERATOR = /^(>=|<=|!=|!%|=%|%=|!@|>|<|@|%|=|!)?(.+)$/;

function scalar(value: unknown): string {
  if (typeof value === 'boolean') return value ? 'Y' : 'N';
  if (Array.isArray(value)) return value.map(scalar).join(',');
  return String(value ?? '');
}

function compare(a: unknown, b: unknown): number {
  const x = scalar(a);
  const y = scalar(b);
  const nx = Number(x);
  const ny = Number(y);
  if (x !== '' && y !== '' && Number.isFinite(nx) && Number.isFinite(ny)) return nx - ny;
  return x.localeCompare(y);
}

function equals(actual: unknown, wanted: unknown): boolean {
  if (Array.isArray(actual)) return actual.some((a) => equals(a, wanted));
  const normal = (v: unknown) => {
    const s = scalar(v).toLowerCase();
    return s === 'true' || s === '1' ? 'y' : s === 'false' || s === '0' ? 'n' : s;
  };
  if (typeof actual === 'boolean') return normal(actual) === normal(wanted);
  return compare(actual, wanted) === 0 || scalar(actual).toLowerCase() === scalar(wanted).toLowerCase();
}

function listOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object') return Object.values(value);
  return scalar(value).split(',');
}

function matchOne(row: Row, key: string, wanted: unknown, fields: (row: Row, field: string) => unknown): boolean {
  const m = OPERATOR.exec(key);
  const op = m?.[1] ?? '';
  const field = (m?.[2] ?? key).toUpperCase();
  const actual = fields(row, field);
  const like = () => scalar(actual).toLowerCase().includes(scalar(wanted).replace(/%/g, '').toLowerCase());
  switch (op) {
    case '>': return compare(actual, wanted) > 0;
    case '>=': return compare(actual, wanted) >= 0;
    case '<': return compare(actual, wanted) < 0;
    case '<=': return compare(actual, wanted) <= 0;
    case '%': case '=%': case '%=': return like();
    case '!%': return !like();
    case '@': return listOf(wanted).some((w) => equals(actual, w));
    case '!@': return !listOf(wanted).some((w) => equals(actual, w));
    case '!': case '!=':
      return Array.isArray(wanted) ? !wanted.some((w) => equals(actual, w)) : !equals(actual, wanted);
    default:
      return Array.isArray(wanted) ? wanted.some((w) => equals(actual, w)) : equals(actual, wanted);
  }
}

export function matchesFilter(row: Row, filter: Params, fields: (row: Row, field: string) => unknown): boolean {
  return Object.entries(filter).every(([key, wanted]) => matchOne(row, key, wanted, fields));
}

/** Sorts by `{FIELD: 'ASC'|'DESC', …}`; unknown fields compare equal. */
export function sortRows<T extends Row>(rows: T[], order: Record<string, string>): T[] {
  const keys = Object.entries(order);
  if (keys.length === 0) return rows;
  return [...rows].sort((a, b) => {
    for (const [field, dir] of keys) {
      const c = compare(a[field.toUpperCase()], b[field.toUpperCase()]);
      if (c !== 0) return dir.toUpperCase() === 'DESC' ? -c : c;
    }
    return 0;
  });
}
