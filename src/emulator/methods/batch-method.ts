/**
 * `batch` (DOCS how-to-call-rest-api/batch.md; CORE CRestProvider::methodsBatch, processBatchElement):
 * up to 50 sub-calls of the form "method?urlencoded params", run in order with the parent's auth; extra
 * commands each get ERROR_BATCH_LENGTH_EXCEEDED while the first 50 still run; `halt` stops at the first
 * failure; `$result[key][field]…` is replaced by an earlier result. The answer is always HTTP 200, with
 * empty sections serialised as `[]` like PHP arrays.
 */
import { parsePhpQuery, toPhpJson } from '../php-form.ts';
import { PAGE_SIZE, type MethodTable } from '../rest-method.ts';
import { asObject, type Params } from '../rest-request.ts';
import { RestError } from '../rest-response.ts';

const REFERENCE = /\$result\[([^\]]+)\]((?:\[[^\]]*\])*)/g;

/** PHP truthiness, which is what `halt` gets: "0", "" and 0 are false, everything else (even "false") true. */
function phpTruthy(value: unknown): boolean {
  return !(value === undefined || value === null || value === false || value === 0 || value === '' || value === '0');
}

function resolve(results: Map<string, unknown>, key: string, path: string): unknown {
  let value: unknown = results.get(key);
  for (const m of path.matchAll(/\[([^\]]*)\]/g)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[m[1] ?? ''];
  }
  return value;
}

function substitute(value: unknown, results: Map<string, unknown>): unknown {
  if (typeof value === 'string') {
    const whole = /^\$result\[([^\]]+)\]((?:\[[^\]]*\])*)$/.exec(value);
    if (whole) {
      const found = resolve(results, whole[1] ?? '', whole[2] ?? '');
      return found === undefined ? value : found;
    }
    return value.replace(REFERENCE, (match, key: string, path: string) => {
      const found = resolve(results, key, path);
      return found === undefined || (found !== null && typeof found === 'object') ? match : String(found);
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, results));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, results)]));
  }
  return value;
}

function commandsOf(cmd: unknown): [string, string][] {
  if (Array.isArray(cmd)) return cmd.map((c, i) => [String(i), String(c)]);
  const object = asObject(cmd);
  return object ? Object.entries(object).map(([k, v]) => [k, String(v)]) : [];
}

export const batchMethods: MethodTable = {
  batch: {
    notInBatch: true,
    async handler(ctx, params: Params) {
      const halt = phpTruthy(params.halt);
      const results = new Map<string, unknown>();
      const sections = {
        result: [] as [string, unknown][],
        result_error: [] as [string, unknown][],
        result_total: [] as [string, unknown][],
        result_next: [] as [string, unknown][],
        result_time: [] as [string, unknown][],
      };
      const commands = commandsOf(params.cmd);
      for (const [index, [key, command]] of commands.entries()) {
        try {
          if (index >= PAGE_SIZE) throw new RestError('ERROR_BATCH_LENGTH_EXCEEDED', 'Max batch length exceeded');
          const q = command.indexOf('?');
          const method = (q < 0 ? command : command.slice(0, q)).trim().toLowerCase();
          const subParams = substitute(q < 0 ? {} : parsePhpQuery(command.slice(q + 1)), results) as Params;
          delete subParams.auth;
          if (method === 'batch') {
            throw new RestError('ERROR_BATCH_METHOD_NOT_ALLOWED', 'Method is not allowed for batch usage', 405);
          }
          const { outcome, time } = await ctx.invoke(method, subParams);
          results.set(key, outcome.result);
          sections.result.push([key, outcome.result]);
          if (outcome.total !== undefined) sections.result_total.push([key, outcome.total]);
          if (outcome.next !== undefined) sections.result_next.push([key, outcome.next]);
          sections.result_time.push([key, time]);
        } catch (err) {
          if (!(err instanceof RestError)) throw err;
          sections.result_error.push([key, { error: err.code, error_description: err.description }]);
          if (halt) break;
        }
      }
      return {
        result: Object.fromEntries(Object.entries(sections).map(([name, entries]) => [name, toPhpJson(entries)])),
      };
    },
  },
};
