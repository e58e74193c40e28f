/**
 * Which calls are safe to repeat after an answer that may or may not have run them (a 5xx, a timeout,
 * a dropped connection). Only reads are; a write repeated blindly can create a second calendar event.
 * The test is by name, as Bitrix24 names methods `<scope>.<entity>.<verb>`: an unknown verb counts
 * as a write, so a mistake here costs a retry, never a duplicate.
 */
const READ_VERBS = new Set(['get', 'list', 'fields', 'current', 'search', 'info', 'count', 'admin', 'access', 'types']);
const READ_METHODS = new Set(['profile', 'user.current', 'user.admin', 'app.info', 'scope', 'methods', 'method.get', 'server.time', 'feature.get']);

/** Method names are plain identifiers; anything else must never reach a URL path. */
const METHOD_NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;

export function isValidMethodName(method: string): boolean {
  return method.length <= 200 && METHOD_NAME.test(method);
}

export function isReadMethod(method: string): boolean {
  const m = method.toLowerCase();
  if (READ_METHODS.has(m)) return true;
  const verb = m.slice(m.lastIndexOf('.') + 1);
  return READ_VERBS.has(verb);
}

/** A batch is a read when every command in it is. */
export function isReadBatch(methods: readonly string[]): boolean {
  return methods.every(isReadMethod);
}
