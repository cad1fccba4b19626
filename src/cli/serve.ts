import { mkdirSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../config/env.js';
import { buildApp, type App } from '../http/app.js';
import { CustomModelError } from '../inference/index.js';
import { createServerServices, type ServerServices } from '../services/server.js';

/** Starts the HTTP server and wires SIGTERM/SIGINT to a graceful shutdown. */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<App> {
  let config: Config;
  let services: ServerServices;
  try {
    config = loadConfig(env);
    mkdirSync(config.dataDir, { recursive: true });
    services = await createServerServices(config);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof CustomModelError) {
      process.stderr.write(`imgsense: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const { app, lifecycle } = await buildApp({ config, services, onClose: () => services.close() });
  for (const notice of services.notices) app.log.warn(notice);
  await app.listen({ host: config.host, port: config.port });
  // Readiness waits for the warmed models: the first request must not pay for a conversion or a session.
  await services.inference.warm(config.inference.warm);
  lifecycle.ready = true;
  app.log.info({ dataDir: config.dataDir, database: services.database.describe, auth: config.auth.mode, imaging: services.imaging, concurrency: services.concurrency, warmed: config.inference.warm }, 'imgsense ready');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    lifecycle.closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      app.log.warn('shutdown timeout: closing with requests still in flight');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error while closing');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return { app, lifecycle };
}
