/**
 * JSON in response headers (htmx's HX-Trigger family). A header value must be ASCII: Bun refuses any
 * other character with a TypeError, which turned every Russian toast into a 500 after the change had
 * already been stored. JSON.stringify leaves non-ASCII text as it is, so every code unit outside
 * printable ASCII becomes a \uXXXX escape (surrogate pairs as two escapes); JSON.parse in htmx reads
 * the text back unchanged. Every JSON header goes through here.
 */

const NON_ASCII = /[\u007f-\uffff]/g;

/** `value` as JSON made of printable ASCII only, safe as any header value. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(NON_ASCII, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** When htmx fires the events: on receipt, after the swap, or after the new content has settled. */
export type HxTriggerTiming = 'hx-trigger' | 'hx-trigger-after-swap' | 'hx-trigger-after-settle';

/** Sets an htmx event header with `events` (name -> detail); nothing when there are none. */
export function setHxTrigger(headers: Headers | Record<string, string>, events: Record<string, unknown>, timing: HxTriggerTiming = 'hx-trigger'): void {
  if (!Object.keys(events).length) return;
  const value = asciiJson(events);
  if (headers instanceof Headers) headers.set(timing, value);
  else headers[timing] = value;
}
