#!/usr/bin/env bun
/**
 * The b24app executable. Subcommand names are a contract (architecture §2):
 * serve (default) | dev | emulator | migrate | backup <file> | doctor.
 */
import pkg from '../package.json' with { type: 'json' };
import { ConfigError } from './config.ts';
import { StoreOpenError } from './store/open-store.ts';

// Each command's modules are loaded when it runs: `serve` starts without evaluating the emulator,
// dev or doctor (a cold start pays for what it runs).

const HELP = `b24app ${pkg.version}: a Bitrix24 application server

Usage: b24app [command] [options]

Commands:
  serve            run the app (default); configured by environment variables, see README;
                   --workers N: N processes on one port (default: WORKERS, else the number of cores)
  dev              run the app and the portal emulator together on loopback, one portal installed
  emulator         run the portal emulator alone (--port, --app-url, --client-id, --client-secret,
                   --rate, --burst, --latency-ms)
  migrate          apply pending database migrations
  backup <file>    write a consistent copy of the SQLite database while the server runs
                   (PostgreSQL: use pg_dump; the command says how)
  doctor           check this deployment (configuration, database, each portal's tokens and event
                   bindings, the handler URL): one ok/warn/fail line each; exit code 1 on a fail

Options:
  -h, --help       show this help
  -v, --version    show the version
`;

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  const env = process.env;
  switch (command) {
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(HELP);
      return;
    case '-v':
    case '--version':
      process.stdout.write(`${pkg.version}\n`);
      return;
    case 'serve':
      return (await import('./cli/serve.ts')).runServe(env, rest);
    case 'migrate':
      return (await import('./cli/store-commands.ts')).runMigrate(env);
    case 'backup':
      return (await import('./cli/store-commands.ts')).runBackup(env, rest[0]);
    case 'doctor':
      return (await import('./cli/doctor.ts')).runDoctorCli(env);
    case 'dev':
      return (await import('./cli/dev.ts')).runDev(env, rest);
    case 'emulator':
      return (await import('./emulator/cli.ts')).runEmulatorCli(rest);
    default:
      process.stderr.write(`b24app: unknown command "${command}"\n\n${HELP}`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof StoreOpenError) {
    process.stderr.write(`b24app: ${e.message.split('\n').join('\nb24app: ')}\n`);
    process.exit(2);
  }
  process.stderr.write(`b24app: ${(e as Error).message}\n`);
  process.exit(1);
});
