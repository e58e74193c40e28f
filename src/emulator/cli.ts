/**
 * `b24app emulator`: runs the emulator alone until SIGINT/SIGTERM.
 *   --port 4100 --host 127.0.0.1 --app-url URL --client-id ID --client-secret SECRET
 *   [--install-url URL] [--events-url URL] [--scope user,placement,calendar]
 *   [--rate 2] [--burst 50] [--latency-ms 0] [--token-ttl 3600] [--refresh-token-lifetime-days 180]
 *   [--operating-limit SECONDS]
 *   [--portal]  also create one portal (the app added, not installed) and print its page URL
 */
import { startEmulator, type EmulatorOptions } from './index.ts';

const USAGE = 'usage: b24app emulator --app-url URL --client-id ID --client-secret SECRET [--port 4100] [--host 127.0.0.1] [--rate 2] [--burst 50] [--latency-ms 0] [--token-ttl 3600] [--refresh-token-lifetime-days 180] [--operating-limit S] [--install-url URL] [--events-url URL] [--scope LIST] [--portal]';

export function parseEmulatorArgs(argv: string[]): { options: EmulatorOptions; portal: boolean } {
  const flags = new Map<string, string>();
  let portal = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"\n${USAGE}`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (name === 'portal') {
      portal = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value\n${USAGE}`);
    flags.set(name, value);
  }
  const number = (name: string): number | undefined => {
    const raw = flags.get(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got "${raw}"`);
    return n;
  };
  const clientId = flags.get('client-id') ?? process.env.BITRIX24_CLIENT_ID;
  const clientSecret = flags.get('client-secret') ?? process.env.BITRIX24_CLIENT_SECRET;
  const appUrl = flags.get('app-url') ?? process.env.PUBLIC_URL;
  if (!clientId || !clientSecret || !appUrl) throw new Error(`--app-url, --client-id and --client-secret are required\n${USAGE}`);
  const app: EmulatorOptions['apps'][number] = { client_id: clientId, client_secret: clientSecret, app_url: appUrl };
  for (const [flag, key] of [['install-url', 'install_url'], ['events-url', 'events_url'], ['scope', 'scope']] as const) {
    const value = flags.get(flag);
    if (value !== undefined) app[key] = value;
  }
  const options: EmulatorOptions = { host: flags.get('host') ?? '127.0.0.1', port: number('port') ?? 4100, apps: [app] };
  const optional = { rate: number('rate'), burst: number('burst'), latencyMs: number('latency-ms'), accessTokenTtl: number('token-ttl'), refreshTokenLifetimeDays: number('refresh-token-lifetime-days'), operatingLimitSeconds: number('operating-limit') };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) Object.assign(options, { [key]: value });
  return { options, portal };
}

export async function runEmulatorCli(argv: string[]): Promise<void> {
  const { options, portal } = parseEmulatorArgs(argv);
  const emulator = await startEmulator({ ...options, log: (line) => process.stdout.write(line + '\n') });
  process.stdout.write(`Bitrix24 emulator: OAuth server and control API at ${emulator.url}\n`);
  process.stdout.write(`BX24 library at ${emulator.url}/api/v1/\n`);
  if (portal) {
    const res = await fetch(`${emulator.url}/_emulator/portals`, { method: 'POST' });
    const created = (await res.json()) as { portal_url: string; member_id: string };
    process.stdout.write(`Portal ${created.member_id}: open ${created.portal_url}\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await emulator.stop();
}
