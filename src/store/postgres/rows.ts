/**
 * PostgreSQL hands BIGINT (int8) values to Bun as strings (they may exceed 2^53); every one the
 * store keeps is an id or a unix time, well inside a JavaScript number.
 */
export const num = (v: unknown): number => Number(v);
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
