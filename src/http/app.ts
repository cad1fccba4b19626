import Fastify, { LogController, type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Config } from '../config/env.js';
import type { Services } from '../services/create.js';
import { validate } from '../services/validate.js';
import { registerErrorHandling } from './plugins/errors.js';
import { registerObservability } from './plugins/observability.js';
import { genReqId } from './plugins/request-id.js';
import { healthRoutes, type Lifecycle } from './routes/health.js';
import { imageRoutes } from './routes/v1/images.js';
import { visionRoutes } from './routes/v1/vision.js';
import { AppError } from '../errors/app-error.js';
import { ErrorEnvelope, errorStatuses } from './schemas.js';
import './request-context.js';

export interface AppDeps {
  config: Config;
  services: Services;
  lifecycle?: Lifecycle;
  /** Tests pass false to keep output quiet; the server passes pino options. */
  logger?: boolean | object;
  /** Runs when the server closes, after in-flight requests (e.g. releasing model sessions). */
  onClose?: () => Promise<void>;
}

export interface App { app: FastifyInstance; lifecycle: Lifecycle }

export async function buildApp(deps: AppDeps): Promise<App> {
  const { config } = deps;
  const lifecycle = deps.lifecycle ?? { ready: false, closing: false };
  const app = Fastify({
    logger: deps.logger ?? { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] },
    genReqId,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    bodyLimit: config.limits.maxBodyBytes,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { strict: false } },
  });

  // One validator for every schema: the same one the services and the CLI use, with sharp-shaped messages.
  app.setValidatorCompiler(({ schema, httpPart }) => (data: unknown) => {
    if ((data === undefined || data === null) && httpPart === 'body') return { value: data };
    try {
      return { value: validate(schema, data, '', { coerce: httpPart !== 'body' }) };
    } catch (error) {
      return { error: error as Error };
    }
  });

  // Image endpoints take JSON or multipart only; a text body is a client mistake worth naming.
  app.removeContentTypeParser('text/plain');
  if (deps.onClose) app.addHook('onClose', deps.onClose);
  registerErrorHandling(app);
  registerObservability(app);
  app.addHook('onRequest', async () => {
    if (lifecycle.closing) throw new AppError('ServiceUnavailable', 'The server is shutting down; retry on another instance');
  });
  // Keep-alive sockets of requests that finish during shutdown must not hold the close open.
  app.addHook('onSend', async (_request, reply) => {
    if (lifecycle.closing) reply.header('connection', 'close');
  });

  // Every route documents every error status with the one envelope.
  app.addSchema(ErrorEnvelope);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) return;
    const schema = (route.schema ??= {});
    const response = ((schema as { response?: Record<string, unknown> }).response ??= {});
    for (const status of errorStatuses) response[status] ??= { $ref: 'ErrorEnvelope#', description: 'error envelope' };
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'imgsense', version: '0.1.0', description: 'Self-hosted image processing and recognition API. Errors: docs/errors.md.' },
      tags: [{ name: 'images' }, { name: 'operations' }, { name: 'vision' }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(multipart, {
    limits: { fileSize: config.limits.maxImageBytes, files: 1, fields: 20, fieldSize: config.limits.maxBodyBytes, parts: 25 },
    throwFileSizeLimit: true,
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  healthRoutes(app, lifecycle);
  imageRoutes(app, deps.services.processing, config.limits.maxImageBytes);
  visionRoutes(app, deps.services.vision, config.limits.maxImageBytes);
  await app.ready();
  return { app, lifecycle };
}
