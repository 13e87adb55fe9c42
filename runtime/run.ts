import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { listen } from './server.ts';
import { startTocsin, type ProcessRole } from './tocsin.ts';

/**
 * Runs one Tocsin process with the given roles: reads the configuration (exiting with every
 * problem listed when it is wrong), starts the roles, listens on PORT and stops cleanly on
 * SIGINT/SIGTERM.
 */
export async function runProcess(name: string, roles: readonly ProcessRole[]): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tocsin ${name}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, `tocsin-${name}`);
  const tocsin = await startTocsin(config, roles, log).catch((err: Error) => {
    log.fatal({ err }, `could not start: ${err.message}`);
    process.exit(1);
  });
  const server = listen(
    tocsin.app.fetch,
    { port: config.port, hostname: config.host, requestTimeoutMs: config.requestTimeoutMs },
    (info) => {
      log.info(
        { roles, port: info.port },
        `tocsin ${name} listening on http://127.0.0.1:${info.port}`,
      );
      if (!config.adminToken) log.info(`admin token: in ${config.adminTokenFile}`);
    },
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    server.close();
    tocsin.close().then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
