/**
 * CORE HandlerHelper::checkCallback: an event or placement handler must be an absolute http(s) URL on
 * the same host as the application's URL. (CORE also demands a dot in the host; the emulator lets
 * `localhost` through so that dev setups on loopback work.)
 */
import { RestError } from './rest-response.ts';
import type { AppRecord } from './world.ts';

export function checkHandlerUrl(handler: string, app: AppRecord): string {
  let url: URL;
  try {
    url = new URL(handler);
  } catch {
    throw new RestError('ERROR_WRONG_HANDLER_URL', 'Wrong handler URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RestError('ERROR_UNSUPPORTED_PROTOCOL', 'Unsupported event handler protocol');
  }
  if (url.hostname !== new URL(app.app_url).hostname) {
    throw new RestError('ERROR_WRONG_HANDLER_URL', "Handler URL host doesn't match application url");
  }
  return url.toString();
}

export function argumentError(name: string): RestError {
  return new RestError('ERROR_ARGUMENT', `Argument '${name}' is null or empty`, 400, { argument: name });
}
