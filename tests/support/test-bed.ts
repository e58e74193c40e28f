/**
 * The portal emulator with a stand-in for the app: a tiny server that records every request Bitrix24
 * sends it (installer launches, ONAPPINSTALL, events) and answers 200 (or what the test sets). The
 * emulator suite tests the emulator against it; the REST-client suite builds its world on it.
 * Everything is real HTTP on loopback; the emulator is reached through the one emulator client.
 */
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';
import { emulatorClient, type EmulatorClient } from './emulator-client.ts';
import { waitFor } from './wait-for.ts';

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
  /** Resolves when `count` requests matching `filter` have arrived (fails after `timeoutMs`). */
  waitFor(filter: (c: Captured) => boolean, count?: number, timeoutMs?: number): Promise<Captured[]>;
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
    async waitFor(filter, count = 1, timeoutMs = 10_000) {
      try {
        return await waitFor(
          () => {
            const found = requests.filter(filter);
            return found.length >= count && found;
          },
          { timeoutMs, what: `${count} request(s) at the app` },
        );
      } catch (e) {
        throw new Error(`${(e as Error).message}; got ${requests.map((r) => r.path).join(', ') || 'none'}`);
      }
    },
    setStatus(s) {
      status = s;
    },
    stop() {
      server.stop(true);
    },
  };
}

export interface TestBed {
  emulator: Emulator;
  /** The emulator's control API. */
  emu: EmulatorClient;
  app: AppSink;
  clientId: string;
  clientSecret: string;
  stop(): Promise<void>;
}

export interface TestBedOptions {
  clientId?: string;
  clientSecret?: string;
}

/** An emulator that knows one app, whose URL (install URL `/install`) is a fresh sink. */
export async function startTestBed(options: Partial<EmulatorOptions> = {}, identity: TestBedOptions = {}): Promise<TestBed> {
  const app = startAppSink();
  const clientId = identity.clientId ?? 'app.0123456789abcd.12345678';
  const clientSecret = identity.clientSecret ?? 'test-secret';
  const emulator = await startEmulator({
    port: 0,
    apps: [{ client_id: clientId, client_secret: clientSecret, app_url: `${app.url}/` }],
    ...options,
  });
  return {
    emulator,
    emu: emulatorClient(emulator),
    app,
    clientId,
    clientSecret,
    async stop() {
      await emulator.stop();
      app.stop();
    },
  };
}
