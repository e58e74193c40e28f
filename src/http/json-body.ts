/**
 * Reads a JSON request body with the API's limits: JSON only (415), at most 64 KB (413), well-formed
 * (400), and of the expected TypeBox shape (422 with per-field messages). Never a 500 for bad input.
 */
import type { TSchema, Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AppError } from '../domain/errors.ts';

export const JSON_BODY_MAX = 64 * 1024;

export async function readJsonBody<S extends TSchema>(request: Request, schema: S): Promise<Static<S>> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) throw new AppError('unsupported_media_type', 'Send the body as application/json.');
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > JSON_BODY_MAX) throw new AppError('payload_too_large', 'The body is larger than 64 KB.');
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > JSON_BODY_MAX) throw new AppError('payload_too_large', 'The body is larger than 64 KB.');
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new AppError('invalid', 'The body is not valid JSON.');
  }
  if (!Value.Check(schema, value)) {
    const fields: Record<string, string> = {};
    for (const e of Value.Errors(schema, value)) {
      const key = e.path.replace(/^\//, '').replace(/\//g, '.') || 'body';
      fields[key] ??= e.message;
    }
    throw new AppError('unprocessable', 'Some fields are invalid.', { fields });
  }
  return value as Static<S>;
}
