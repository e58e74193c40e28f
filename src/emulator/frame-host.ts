/**
 * The parent side of the frame protocol (bx24-frame-protocol.md §3–§5), i.e. what BX.rest.AppLayout
 * does in a real portal. It runs in the browser: `runFrameHost` is serialised with toString() into the
 * portal page, so it must not touch anything outside its own body.
 *
 * Messages arrive as `command:params:callbackId:APP_SID` strings (classic BX24; b24jssdk drops empty
 * fields) or as `{method, params, callback, appSid}` objects; only the app's exact origin and the
 * frame's own APP_SID are accepted. Replies are `callbackId:JSON` strings posted to the app origin.
 */
import type { Launch } from './launch.ts';

export interface FrameHostConfig {
  launch: Pick<Launch, 'sid' | 'iframe_name' | 'url' | 'app_origin' | 'app_code' | 'form' | 'init'>;
}

export function runFrameHost(config: FrameHostConfig): void {
  type Frame = { launch: FrameHostConfig['launch']; iframe: HTMLIFrameElement; onClose?: () => void; holder?: HTMLElement };
  const frames = new Map<string, Frame>();
  const w = window as unknown as { __b24emulator?: { messages: string[]; frames: Map<string, Frame>; openedPaths: string[] } };
  const trace: string[] = [];
  /** Every path openPath showed, with the portal's `from` parameters. */
  const openedPaths: string[] = [];
  w.__b24emulator = { messages: trace, frames, openedPaths };

  const post = async (path: string, body: unknown): Promise<any> => {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return res.json();
  };

  const submitLaunch = (launch: Frame['launch'], container: HTMLElement) => {
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = launch.url;
    form.target = launch.iframe_name;
    form.style.display = 'none';
    for (const [name, value] of Object.entries(launch.form)) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      input.value = value;
      form.appendChild(input);
    }
    container.appendChild(form);
    form.submit();
  };

  const reply = (frame: Frame, cb: string, result: unknown) => {
    if (!cb || !frame.iframe.contentWindow) return;
    const payload = result === undefined ? `${cb}:` : `${cb}:${JSON.stringify(result)}`;
    frame.iframe.contentWindow.postMessage(payload, frame.launch.app_origin);
  };

  const parse = (data: unknown): { command: string; params: any; cb: string; sid: string } | undefined => {
    if (typeof data === 'string') {
      const parts = data.split(':');
      if (parts.length < 3) return undefined;
      const command = parts[0] ?? '';
      const sid = parts[parts.length - 1] ?? '';
      const cb = parts[parts.length - 2] ?? '';
      const raw = parts.slice(1, -2).join(':');
      let params: any = {};
      try {
        params = raw ? JSON.parse(raw) : {};
      } catch {
        params = {};
      }
      return { command, params, cb, sid };
    }
    if (data && typeof data === 'object') {
      const o = data as Record<string, any>;
      return { command: String(o.method ?? ''), params: o.params ?? {}, cb: String(o.callback ?? ''), sid: String(o.appSid ?? '') };
    }
    return undefined;
  };

  const openSlider = async (opener: Frame, params: Record<string, unknown>, onClose: () => void) => {
    const data = await post('/_portal/frame/open', { sid: opener.launch.sid, options: params });
    const overlay = document.createElement('div');
    overlay.className = 'b24-slider';
    const panel = document.createElement('div');
    panel.className = 'b24-slider-panel';
    const title = document.createElement('div');
    title.className = 'b24-slider-title';
    title.textContent = typeof params.bx24_title === 'string' ? params.bx24_title : document.title;
    const iframe = document.createElement('iframe');
    iframe.className = 'b24-app-frame';
    // The browsing context takes its name when the iframe is inserted, so name it first (window.name
    // is how the app finds DOMAIN and APP_SID).
    iframe.name = data.launch.iframe_name;
    panel.append(title, iframe);
    overlay.appendChild(panel);
    document.body.appendChild(overlay);
    const frame: Frame = { launch: data.launch, iframe, onClose, holder: overlay };
    frames.set(data.launch.sid, frame);
    submitLaunch(data.launch, panel);
  };

  /**
   * BX24.openPath (DOCS sdk/bx24-js-sdk/additional-functions/bx24-open-path.md; parent side as CORE's
   * BX.rest.AppLayout.openPath): the path, URI-decoded, must start with `/` and resolve to this portal's
   * own http(s) origin, else `{result:'error', errorCode:'PATH_NOT_AVAILABLE'}`. The portal adds
   * `from=rest_placement&from_app=<app code>` and shows the page in a slider; closing it (its close
   * button, a click beside it, Escape) answers `{result:'close'}`.
   */
  const openPath = (frame: Frame, params: any, cb: string) => {
    let path = typeof params?.path === 'string' ? params.path : '';
    let target: URL | undefined;
    try {
      path = decodeURIComponent(path);
      target = new URL(path, location.origin);
    } catch {
      path = '';
    }
    if (!path.startsWith('/') || !target || target.origin !== location.origin || !/^https?:$/.test(target.protocol)) {
      reply(frame, cb, { result: 'error', errorCode: 'PATH_NOT_AVAILABLE' });
      return;
    }
    path += `${path.includes('?') ? '&' : '?'}from=rest_placement&from_app=${encodeURIComponent(frame.launch.app_code)}`;
    const overlay = document.createElement('div');
    overlay.className = 'b24-slider b24-path-slider';
    const panel = document.createElement('div');
    panel.className = 'b24-slider-panel';
    const bar = document.createElement('div');
    bar.className = 'b24-slider-title';
    const title = document.createElement('span');
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'b24-slider-close';
    close.textContent = '×';
    close.setAttribute('aria-label', document.documentElement.lang === 'ru' ? 'Закрыть' : 'Close');
    bar.append(title, close);
    const page = document.createElement('iframe');
    page.className = 'b24-page-frame';
    page.src = path;
    page.addEventListener('load', () => {
      title.textContent = page.contentDocument?.title ?? '';
    });
    panel.append(bar, page);
    overlay.appendChild(panel);
    document.body.appendChild(overlay);
    openedPaths.push(path);
    let closed = false;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') shut();
    };
    const shut = () => {
      if (closed) return;
      closed = true;
      document.removeEventListener('keydown', onKey);
      overlay.remove();
      reply(frame, cb, { result: 'close' });
    };
    close.addEventListener('click', shut);
    overlay.addEventListener('click', (e) => {
      if (e.target === overlay) shut();
    });
    document.addEventListener('keydown', onKey);
    close.focus();
  };

  const closeSlider = (frame: Frame) => {
    frames.delete(frame.launch.sid);
    frame.holder?.remove();
    frame.onClose?.();
  };

  const handlers: Record<string, (frame: Frame, params: any, cb: string) => void | Promise<void>> = {
    getInitData: (frame, _p, cb) => {
      reply(frame, cb, frame.launch.init);
      frame.launch.init = { ...frame.launch.init, FIRST_RUN: false };
    },
    refreshAuth: async (frame, _p, cb) => {
      const auth = await post('/_portal/frame/refresh', { sid: frame.launch.sid });
      Object.assign(frame.launch.init, auth);
      reply(frame, cb, auth);
    },
    setInstall: async (frame, params, cb) => {
      await post('/_portal/frame/first-run', { sid: frame.launch.sid });
      reply(frame, cb, params);
    },
    setInstallFinish: async (frame, params, cb) => {
      if (!frame.launch.init.INSTALL || (params && params.value === false)) return reply(frame, cb, {});
      await post('/_portal/frame/install-finish', { sid: frame.launch.sid });
      reply(frame, cb, {});
      const url = new URL(location.href);
      url.searchParams.set('install_finished', 'Y');
      setTimeout(() => location.replace(url.toString()), 50);
    },
    resizeWindow: (frame, params, cb) => {
      const box = (frame.holder ? frame.iframe : document.getElementById('b24-app-layout')) as HTMLElement;
      const width = params.width;
      box.style.width = typeof width === 'number' ? `${width}px` : String(width ?? '100%');
      box.style.height = `${Number.parseInt(String(params.height), 10) || 0}px`;
      reply(frame, cb, { width: box.offsetWidth, height: box.offsetHeight });
    },
    setTitle: (frame, params, cb) => {
      const el = document.getElementById('pagetitle');
      if (el) el.textContent = String(params.title ?? '');
      reply(frame, cb, params);
    },
    setScroll: (frame, params, cb) => {
      window.scrollTo(0, Number(params.scroll) || 0);
      reply(frame, cb, params);
    },
    reloadWindow: () => location.reload(),
    setUserOption: async (frame, params, cb) => {
      await post('/_portal/frame/option', { sid: frame.launch.sid, kind: 'user', name: params.name, value: params.value });
      reply(frame, cb, params);
    },
    setAppOption: async (frame, params, cb) => {
      if (!frame.launch.init.IS_ADMIN) return;
      const all = await post('/_portal/frame/option', { sid: frame.launch.sid, kind: 'app', name: params.name, value: params.value });
      frame.launch.init.APP_OPTIONS = all;
      reply(frame, cb, all);
    },
    getInterface: (frame, _p, cb) => reply(frame, cb, { command: [], event: [] }),
    openApplication: (frame, params, cb) => openSlider(frame, params ?? {}, () => reply(frame, cb, undefined)),
    closeApplication: (frame, _p, cb) => {
      reply(frame, cb, undefined);
      if (frame.holder) closeSlider(frame);
    },
    openPath,
  };

  window.addEventListener('message', (event) => {
    const msg = parse(event.data);
    if (!msg) return;
    const frame = frames.get(msg.sid);
    if (!frame || event.origin !== frame.launch.app_origin) return;
    trace.push(msg.command);
    const handler = handlers[msg.command];
    if (!handler) return;
    Promise.resolve(handler(frame, msg.params, msg.cb)).catch((err) => console.error('b24 emulator:', msg.command, err));
  });

  const iframe = document.getElementById('b24-app-frame') as HTMLIFrameElement | null;
  const layout = document.getElementById('b24-app-layout');
  if (!iframe || !layout) return;
  frames.set(config.launch.sid, { launch: config.launch, iframe });
  // The server rendered the iframe name and the hidden form, as the real template does; submit it.
  const form = document.getElementById('b24-app-form') as HTMLFormElement | null;
  if (form) form.submit();
  else submitLaunch(config.launch, layout);
}
