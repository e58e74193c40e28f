/**
 * Our own classic `BX24` browser library (the API of //api.bitrix24.com/api/v1/, bitrix24-platform.md §7)
 * over the frame protocol. `installBx24` runs in the app's page: it is serialised with toString(), so it
 * must be self-contained. REST calls go straight to the portal (XHR POST `…/rest/<method>.json`, form
 * body with `auth`, no Content-Type so the browser sends text/plain and no preflight); everything else
 * is postMessage to the parent at the origin named by window.name.
 *
 * One deliberate difference from the original: an HTTP 5xx with a JSON body (503 QUERY_LIMIT_EXCEEDED)
 * reaches the callback as an error result instead of throwing 'Query error!' inside the XHR handler.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
export function installBx24(win: any): void {
  const [rawDomain = '', protocolFlag = '', appSid = ''] = String(win.name || '').split('|');
  if (!rawDomain || !appSid) {
    win.BX24 = null;
    throw new Error('Unable to initialize Bitrix24 JS library!');
  }
  const domain = rawDomain.replace(/:(80|443)$/, '');
  const parentOrigin = `${protocolFlag === '1' ? 'https' : 'http'}://${domain}`;
  const callbacks = new Map<string, (data: any) => void>();
  const readyQueue: Array<() => void> = [];
  const installHandlers: Array<() => void> = [];
  let init: any = null;
  const auth = { access_token: '', refresh_token: '', expires: 0 };

  const randomId = () => Array.from({ length: 32 }, () => '0123456789abcdefghijklmnopqrstuvwxyz'[Math.floor(Math.random() * 36)]).join('');

  const send = (command: string, params?: unknown, cb?: (data: any) => void) => {
    const id = cb ? randomId() : '';
    if (cb) callbacks.set(id, cb);
    const message = command.includes(':')
      ? { method: command, params: params ?? {}, callback: id, appSid }
      : `${command}:${params === undefined ? '' : JSON.stringify(params)}:${id}:${appSid}`;
    win.parent.postMessage(message, parentOrigin);
  };

  win.addEventListener('message', (event: MessageEvent) => {
    if (event.origin !== parentOrigin || typeof event.data !== 'string') return;
    const at = event.data.indexOf(':');
    if (at < 0) return;
    const cb = callbacks.get(event.data.slice(0, at));
    if (!cb) return;
    const payload = event.data.slice(at + 1);
    let data: any;
    try {
      data = payload ? JSON.parse(payload) : undefined;
    } catch {
      data = undefined;
    }
    cb(data);
  });

  const setAuth = (d: any) => {
    auth.access_token = d.AUTH_ID;
    auth.refresh_token = d.REFRESH_ID;
    auth.expires = Date.now() + Number.parseInt(String(d.AUTH_EXPIRES), 10) * 1000;
  };

  const encode = (value: any, prefix: string, out: string[]) => {
    const put = (v: string) => out.push(`${encodeURIComponent(prefix)}=${encodeURIComponent(v)}`);
    if (value === null || value === undefined) return;
    if (value instanceof Date) return put(value.toJSON());
    if (Array.isArray(value)) {
      if (!value.length) return put('');
      value.forEach((v, i) => encode(v, `${prefix}[${i}]`, out));
      return;
    }
    if (typeof value === 'object') {
      Object.keys(value).forEach((k) => encode(value[k], prefix ? `${prefix}[${k}]` : k, out));
      return;
    }
    if (typeof value === 'boolean') return put(value ? '1' : '0');
    put(String(value));
  };
  const toQuery = (params: any) => {
    const out: string[] = [];
    encode(params ?? {}, '', out);
    return out.join('&');
  };

  const whenReady = (fn: () => void) => (init ? fn() : readyQueue.push(fn));

  const refreshAuth = (cb?: (a: any) => void) =>
    send('refreshAuth', {}, (d: any) => {
      if (d) setAuth(d);
      if (cb) cb(getAuth());
    });

  const getAuth = () =>
    auth.expires > Date.now()
      ? { access_token: auth.access_token, refresh_token: auth.refresh_token, expires_in: auth.expires, domain, member_id: init?.MEMBER_ID }
      : false;

  function AjaxResult(this: any, answer: any, query: { method: string; params: any }, status: number) {
    this.answer = answer;
    this.query = query;
    this.status = status;
  }
  AjaxResult.prototype.data = function (this: any) {
    return this.answer.result;
  };
  AjaxResult.prototype.error = function (this: any) {
    if (!this.answer.error) return undefined;
    const ex = { error: this.answer.error, error_description: this.answer.error_description };
    return { status: this.status, ex, getError: () => ex, getStatus: () => this.status, toString: () => `${ex.error}${ex.error_description ? ': ' + ex.error_description : ''}` };
  };
  AjaxResult.prototype.error_description = function (this: any) {
    return this.answer.error_description;
  };
  AjaxResult.prototype.more = function (this: any) {
    return typeof this.answer.next === 'number' && !Number.isNaN(this.answer.next);
  };
  AjaxResult.prototype.total = function (this: any) {
    return Number.parseInt(this.answer.total, 10) || 0;
  };
  AjaxResult.prototype.time = function (this: any) {
    return this.answer.time;
  };
  AjaxResult.prototype.next = function (this: any, cb?: (r: any) => void) {
    if (!this.more()) return false;
    return callMethod(this.query.method, { ...this.query.params, start: this.answer.next }, cb);
  };

  const post = (method: string, body: string, onAnswer: (answer: any, status: number) => void) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${parentOrigin}${init?.PATH ?? '/rest'}/${encodeURIComponent(method)}.json`);
    xhr.onload = () => {
      let answer: any;
      try {
        answer = xhr.responseText ? JSON.parse(xhr.responseText) : { result: {} };
      } catch {
        answer = { error: 'INVALID_RESPONSE', error_description: 'The portal answered with invalid JSON' };
      }
      onAnswer(answer, xhr.status);
    };
    xhr.onerror = () => onAnswer({ error: 'NETWORK_ERROR', error_description: 'Query error!' }, 0);
    xhr.send(body);
    return xhr;
  };

  const withAuth = (method: string, params: string, done: (answer: any, status: number) => void) => {
    let retried = false;
    const attempt = () =>
      post(method, `auth=${encodeURIComponent(auth.access_token)}&${params}`, (answer, status) => {
        if (answer && answer.error === 'expired_token' && !retried) {
          retried = true;
          refreshAuth(() => attempt());
          return;
        }
        done(answer, status);
      });
    if (auth.expires <= Date.now()) refreshAuth(() => attempt());
    else attempt();
  };

  function callMethod(method: string, params?: any, cb?: (r: any) => void) {
    whenReady(() => withAuth(method, toQuery(params), (answer, status) => cb && cb(new (AjaxResult as any)(answer, { method, params: params ?? {} }, status))));
    return true;
  }

  const callBatch = (calls: any, cb?: (r: any) => void, halt?: boolean) => {
    const isList = Array.isArray(calls);
    const keys = Object.keys(calls);
    const cmd: Record<string, string> = {};
    const queries: Record<string, { method: string; params: any }> = {};
    for (const key of keys) {
      const call = calls[key];
      const method = Array.isArray(call) ? call[0] : call.method;
      const params = (Array.isArray(call) ? call[1] : call.params) ?? {};
      queries[key] = { method, params };
      cmd[key] = `${method}?${toQuery(params)}`;
    }
    whenReady(() =>
      withAuth('batch', toQuery({ halt: halt ? 1 : 0, cmd }), (answer, status) => {
        const r = (answer && answer.result) || {};
        const pick = (section: string, key: string) => (r[section] ? r[section][key] : undefined);
        const results: any = isList ? [] : {};
        for (const key of keys) {
          const err = pick('result_error', key);
          const sub = {
            result: pick('result', key),
            error: err ? err.error : answer.error,
            error_description: err ? err.error_description : answer.error_description,
            total: pick('result_total', key),
            next: pick('result_next', key),
            time: pick('result_time', key),
          };
          results[key] = new (AjaxResult as any)(sub, queries[key], status);
        }
        if (cb) cb(results);
      }),
    );
    return true;
  };

  const BX24: any = {
    init: (cb: () => void) => whenReady(cb),
    ready: (cb: () => void) => whenReady(cb),
    isReady: () => init !== null,
    install: (cb: () => void) => installHandlers.push(cb),
    installFinish: () => whenReady(() => init.INSTALL && send('setInstallFinish', {})),
    callMethod,
    callBatch,
    callBind: (event: string, handler: string, authType?: number, cb?: (r: any) => void) =>
      init && init.IS_ADMIN ? callMethod('event.bind', { event, handler, auth_type: authType ?? 0 }, cb) : false,
    callUnbind: (event: string, handler: string, authType?: number, cb?: (r: any) => void) =>
      init && init.IS_ADMIN ? callMethod('event.unbind', { event, handler, auth_type: authType ?? 0 }, cb) : false,
    getAuth,
    refreshAuth,
    getLang: () => init?.LANG,
    getDomain: () => domain,
    isAdmin: () => !!init?.IS_ADMIN,
    getScrollSize: () => ({ scrollWidth: win.document.documentElement.scrollWidth, scrollHeight: win.document.documentElement.scrollHeight }),
    resizeWindow: (width: number | string, height: number, cb?: (r: any) => void) => send('resizeWindow', { width, height }, cb),
    fitWindow: (cb?: (r: any) => void) => BX24.resizeWindow('100%', BX24.getScrollSize().scrollHeight, cb),
    setTitle: (title: string, cb?: (r: any) => void) => send('setTitle', { title: String(title) }, cb),
    scrollParentWindow: (scroll: number, cb?: (r: any) => void) => send('setScroll', { scroll }, cb),
    reloadWindow: () => send('reloadWindow', {}),
    openApplication: (params: any, cb?: () => void, settings?: any) => {
      const extra: any = {};
      for (const k of Object.keys(settings ?? {})) extra[`bx24_${k}`] = settings[k];
      send('openApplication', { ...(params ?? {}), ...extra }, cb ?? (() => undefined));
    },
    closeApplication: (cb?: () => void) => send('closeApplication', {}, cb),
    // DOCS sdk/bx24-js-sdk/additional-functions/bx24-open-path.md: a path of this portal in its slider;
    // the callback gets {result: 'close'} when the slider closes, or {result: 'error', errorCode}.
    openPath: (path: string, cb?: (r: any) => void) => send('openPath', { path }, cb),
    placement: {
      info: () => ({ placement: init?.PLACEMENT, options: init?.PLACEMENT_OPTIONS }),
      getInterface: (cb: (r: any) => void) => send('getInterface', {}, cb),
      call: (command: string, params: any, cb?: (r: any) => void) => send(command, params ?? {}, cb),
      bindEvent: (event: string, cb: (r: any) => void) => send('placementBindEvent', { event }, cb),
    },
    appOption: {
      get: (name: string) => (init?.APP_OPTIONS ?? {})[name],
      set: (name: string, value: unknown, cb?: (r: any) => void) => {
        if (!init?.IS_ADMIN) return;
        init.APP_OPTIONS = Array.isArray(init.APP_OPTIONS) ? {} : init.APP_OPTIONS;
        init.APP_OPTIONS[name] = value;
        send('setAppOption', { name, value }, cb);
      },
    },
    userOption: {
      get: (name: string) => (init?.USER_OPTIONS ?? {})[name],
      set: (name: string, value: unknown, cb?: (r: any) => void) => {
        init.USER_OPTIONS = Array.isArray(init.USER_OPTIONS) ? {} : init.USER_OPTIONS;
        init.USER_OPTIONS[name] = value;
        send('setUserOption', { name, value }, cb);
      },
    },
  };
  win.BX24 = BX24;

  send('getInitData', undefined, (data: any) => {
    init = data;
    setAuth(data);
    if (data.FIRST_RUN && installHandlers.length) {
      installHandlers.forEach((h) => h());
      send('setInstall', { install: true });
    }
    readyQueue.splice(0).forEach((fn) => fn());
  });
}

export function renderBx24Script(): string {
  return `/* BX24 — b24app portal emulator build of the classic Bitrix24 JS library */\n(${installBx24.toString()})(window);\n`;
}
