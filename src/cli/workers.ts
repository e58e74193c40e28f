/**
 * `b24app serve --workers N`: N server processes on one port. Bun's `reusePort` lets each process
 * listen on the same address and the kernel spreads connections over them, so one instance uses every
 * core. This process is the supervisor: it checks the configuration and applies the migrations once,
 * starts the workers (this same executable, `serve --workers 1`), restarts one that dies, and on
 * SIGTERM/SIGINT passes the signal on and exits when they have all stopped.
 *
 * Everything one process guarantees holds across workers because the workers share nothing but the
 * database, exactly like several instances (docs/architecture.md §5): the refresh claim, the REST
 * budget and the failed-launch counts are rows every process updates atomically, periodic jobs take a
 * job lock, and what a process keeps in memory (session and verdict caches) is short-lived or checked
 * against the store.
 */
import type { Subprocess } from 'bun';
import type { Logger } from '../log.ts';

/** What a worker sends its supervisor once it listens (Bun's IPC channel). */
export const WORKER_READY = 'b24app:ready';
/** Waits before restarting a crashed worker: doubling up to a minute. */
const RESTART_DELAYS_MS = [500, 1_000, 2_000, 5_000, 15_000, 60_000];

/** The command that runs this executable again: the compiled binary itself, or `bun <entry script>`. */
export function selfCommand(): string[] {
  const compiled = Bun.main.startsWith('/$bunfs/') || Bun.main.startsWith('B:/~BUN/');
  return compiled ? [process.execPath] : [process.execPath, Bun.main];
}

/** `--workers N` from serve's arguments, else WORKERS, else the number of cores; null when malformed. */
export function workerCount(args: string[], env: Record<string, string | undefined>, cores = navigator.hardwareConcurrency): number | null {
  const i = args.indexOf('--workers');
  const raw = i >= 0 ? args[i + 1] : (args.find((a) => a.startsWith('--workers='))?.slice('--workers='.length) ?? env.WORKERS);
  if (raw === undefined) return Math.max(1, cores);
  return /^\d{1,3}$/.test(raw) && Number(raw) >= 1 && Number(raw) <= 256 ? Number(raw) : null;
}

export interface Supervisor {
  /** Resolves with the exit code once every worker has stopped. */
  done: Promise<number>;
  stop(signal?: 'SIGTERM' | 'SIGINT'): void;
}

export function superviseWorkers(count: number, opts: { logger: Logger; env: Record<string, string | undefined>; command?: string[] }): Supervisor {
  const command = [...(opts.command ?? selfCommand()), 'serve', '--workers', '1'];
  const workers = new Map<number, Subprocess>();
  let stopping = false;
  let exitCode = 0;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));

  const start = (index: number, restarts: number) => {
    const startedAt = performance.now();
    let ready = false;
    const proc = Bun.spawn(command, {
      env: { ...opts.env, B24APP_WORKER: String(index) },
      stdio: ['ignore', 'inherit', 'inherit'],
      ipc(message) {
        if (message === WORKER_READY) ready = true;
      },
    });
    workers.set(index, proc);
    void proc.exited.then((code) => {
      workers.delete(index);
      if (stopping) {
        if (workers.size === 0) resolveDone(exitCode);
        return;
      }
      const ranMs = performance.now() - startedAt;
      if (!ready && restarts === 0) {
        // It never came up (a port in use, a database it cannot open): the others would fail alike.
        opts.logger.error('worker failed to start; stopping', { worker: index, code });
        exitCode = code || 1;
        stop('SIGTERM');
        if (workers.size === 0) resolveDone(exitCode);
        return;
      }
      const delay = RESTART_DELAYS_MS[Math.min(restarts, RESTART_DELAYS_MS.length - 1)]!;
      opts.logger.error('worker exited; restarting', { worker: index, code, restart_in_ms: delay });
      setTimeout(() => {
        if (!stopping) start(index, ranMs > 10 * 60_000 ? 0 : restarts + 1);
      }, delay);
    });
  };

  const stop = (signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM') => {
    if (stopping) return;
    stopping = true;
    for (const proc of workers.values()) proc.kill(signal);
    if (workers.size === 0) resolveDone(exitCode);
  };

  for (let i = 1; i <= count; i++) start(i, 0);
  opts.logger.info('workers started', { workers: count });
  return { done, stop };
}
