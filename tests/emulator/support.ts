/**
 * Test helpers for the emulator suite: a tiny "app" server that records what Bitrix24 sends it, and
 * thin wrappers over the control API and a portal's REST endpoint. Everything is real HTTP on loopback.
 */
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';

export interface Captured {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string;
  body: string;
  form: URLSearchParams;
}

export interface AppSink {
  url: string;
  requests: Captured[];
  /** Resolves when `count` requests matching `filter` have arrived (fails after `ms`). */
  waitFor(filter: (c: Captured) => boolean, count?: number, ms?: number): Promise<Captured[]>;
  setStatus(status: number): void;
  stop(): void;
}

export function startAppSink(hostname = '127.0.0.1'): AppSink {
  const requests: Captured[] = [];
  let status = 200;
  const server = Bun.serve({
    hostname,
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const body = await req.text();
      requests.push({ method: req.method, path: url.pathname, query: url.searchParams, contentType: req.headers.get('content-type') ?? '', body, form: new URLSearchParams(body) });
      return new Response('ok', { status });
    },
  });
  return {
    url: `http://${hostname}:${server.port}`,
    requests,
    async waitFor(filter, count = 1, ms = 3000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const found = requests.filter(filter);
        if (found.length >= count) return found;
        await Bun.sleep(10);
      }
      throw new Error(`timed out waiting for ${count} request(s); got ${requests.map((r) => r.path).join(', ')}`);
    },
    setStatus(s) {
      status = s;
    },
    stop() {
      server.stop(true);
    },
  };
}

export interface PortalInfo {
  member_id: string;
  domain: string;
  portal_url: string;
  client_endpoint: string;
}

export interface LaunchInfo {
  url: string;
  query: Record<string, string>;
  form: Record<string, string>;
  iframe_name: string;
}

export class Control {
  constructor(readonly emulator: Emulator) {}

  async post<T = any>(path: string, body: unknown = {}): Promise<T> {
    const res = await fetch(`${this.emulator.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  createPortal(body: Record<string, unknown> = {}): Promise<PortalInfo> {
    return this.post('/_emulator/portals', body);
  }

  install(memberId: string, body: Record<string, unknown> = {}): Promise<{ app_status: string; launch: LaunchInfo; application_token: string; event_status: number | null }> {
    return this.post(`/_emulator/portals/${memberId}/install`, body);
  }

  uninstall(memberId: string, clean: boolean, body: Record<string, unknown> = {}): Promise<{ app_status: string }> {
    return this.post(`/_emulator/portals/${memberId}/uninstall`, { clean, ...body });
  }

  launch(memberId: string, body: Record<string, unknown> = {}): Promise<LaunchInfo> {
    return this.post(`/_emulator/portals/${memberId}/launch`, { user_id: 1, ...body });
  }

  expire(body: Record<string, unknown> = {}): Promise<{ expired: number }> {
    return this.post('/_emulator/tokens/expire', body);
  }

  async stats(memberId?: string): Promise<Record<string, number>> {
    const q = memberId ? `?member_id=${memberId}` : '';
    return (await fetch(`${this.emulator.url}/_emulator/stats${q}`)).json() as Promise<Record<string, number>>;
  }
}

export interface TestBed {
  emulator: Emulator;
  app: AppSink;
  control: Control;
  clientId: string;
  clientSecret: string;
  stop(): Promise<void>;
}

export async function startTestBed(options: Partial<EmulatorOptions> = {}): Promise<TestBed> {
  const app = startAppSink();
  const clientId = 'app.0123456789abcd.12345678';
  const clientSecret = 'test-secret';
  const emulator = await startEmulator({
    port: 0,
    apps: [{ client_id: clientId, client_secret: clientSecret, app_url: `${app.url}/` }],
    ...options,
  });
  return {
    emulator,
    app,
    control: new Control(emulator),
    clientId,
    clientSecret,
    async stop() {
      await emulator.stop();
      app.stop();
    },
  };
}

/** A REST call the way a server-side client makes it: JSON body with `auth`. */
export async function rest(endpoint: string, method: string, params: Record<string, unknown> = {}, auth?: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${endpoint}${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(auth === undefined ? params : { ...params, auth }),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}
