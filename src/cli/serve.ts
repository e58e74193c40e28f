/** `b24app serve`: validate the environment, open the store, check the key, listen, stop gracefully. */
import { createApp } from '../app.ts';
import { createTokenCipher } from '../auth/token-cipher.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { startServer, type RunningServer } from '../server.ts';
import { openStore } from '../store/open-store.ts';

export async function startServe(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<RunningServer> {
  const store = await openStore(config.database, createTokenCipher(config.appSecret));
  if (!(await store.tokens.keyMatches())) {
    await store.close();
    throw new ConfigError(['APP_SECRET does not match the key the stored OAuth tokens were encrypted with']);
  }
  const running = startServer({
    app: (peerIp) => createApp({ config, store, logger }, peerIp),
    store,
    logger,
    host: config.host,
    port: config.port,
  });
  logger.info('listening', { url: running.url, public_url: config.publicUrl });
  return running;
}

export function stopOnSignals(running: { shutdown(reason?: string): Promise<void> }): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void running.shutdown(signal).then(() => process.exit(0));
    });
  }
}

export async function runServe(env: Record<string, string | undefined>): Promise<void> {
  const running = await startServe(loadConfig(env, 'serve'));
  stopOnSignals(running);
}
