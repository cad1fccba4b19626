import Fastify, { LogController, type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Config } from '../config/env.js';
import type { ServerServices } from '../services/server.js';
import { validate } from '../services/validate.js';
import { registerErrorHandling } from './plugins/errors.js';
import { registerAuth } from './plugins/auth.js';
import { registerObservability } from './plugins/observability.js';
import { genReqId } from './plugins/request-id.js';
import { healthRoutes, type Lifecycle } from './routes/health.js';
import { imageRoutes } from './routes/v1/images.js';
import { adminRoutes } from './routes/v1/admin.js';
import { oauthRoutes } from './routes/v1/oauth.js';
import { tencentRoutes } from './routes/tencent.js';
import { registerMetering } from './plugins/metering.js';
import { billingRoutes } from './routes/v1/billing.js';
import { usageRoutes } from './routes/v1/usage.js';
import { faceRoutes } from './routes/v1/faces.js';
import { segmentRoutes } from './routes/v1/segment.js';
import { visionRoutes } from './routes/v1/vision.js';
import { upscaleRoutes } from './routes/v1/upscale.js';
import { AppError } from '../errors/app-error.js';
import { ErrorEnvelope, errorStatuses } from './schemas.js';
import './request-context.js';

export interface AppDeps {
  config: Config;
  services: ServerServices;
  lifecycle?: Lifecycle;
  /** Tests pass false to keep output quiet; the server passes pino options. */
  logger?: boolean;
  /** Where JSON log lines go (stdout by default); tests capture them to prove no secret is logged. */
  logStream?: NodeJS.WritableStream;
  /** Runs when the server closes, after in-flight requests (e.g. releasing model sessions). */
  onClose?: () => Promise<void>;
}

export interface App { app: FastifyInstance; lifecycle: Lifecycle }

export async function buildApp(deps: AppDeps): Promise<App> {
  const { config } = deps;
  const lifecycle = deps.lifecycle ?? { ready: false, closing: false };
  const app = Fastify({
    logger: deps.logger === false ? false : {
      level: config.logLevel,
      // Credentials never reach a log line: headers are redacted and api_key is cut out of logged URLs.
      redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'],
      serializers: { req: (req: { method: string; url: string; hostname?: string; ip?: string }) => ({ method: req.method, url: req.url.replace(/([?&]api_key=)[^&]*/gi, '$1[redacted]'), hostname: req.hostname, remoteAddress: req.ip }) },
      ...(deps.logStream && { stream: deps.logStream }),
    },
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
  registerAuth(app, {
    config: config.auth, authenticator: deps.services.authenticator, limiter: deps.services.limiter,
    maxBodyBytes: config.limits.maxBodyBytes, openAppId: deps.services.openAppId,
  });
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
      tags: [{ name: 'images' }, { name: 'jobs' }, { name: 'auth' }, { name: 'usage' }, { name: 'admin' }, { name: 'vision' }, { name: 'faces' }, { name: 'operations' }, { name: 'compatibility' }],
      components: { securitySchemes: { adminKey: { type: 'http', scheme: 'bearer' }, accessToken: { type: 'http', scheme: 'bearer' } } },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(multipart, {
    // files: 2 for segment's background_image; every route still refuses a file field it does not name.
    limits: { fileSize: config.limits.maxImageBytes, files: 2, fields: 20, fieldSize: config.limits.maxBodyBytes, parts: 25 },
    throwFileSizeLimit: true,
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  healthRoutes(app, lifecycle);
  // Metering: one usage line per billable item of every call to a route with config.action; reports and bills.
  registerMetering(app, deps.services.usageMeter, config.auth.mode);
  imageRoutes(app, deps.services.processing, config.limits.maxImageBytes);
  upscaleRoutes(app, deps.services.upscale, deps.services.jobs, config.limits.maxImageBytes);
  adminRoutes(app, deps.services.accounts, deps.services.adminKey);
  oauthRoutes(app, deps.services.accounts);
  tencentRoutes(app, {});
  usageRoutes(app, deps.services.usage, deps.services.adminKey);
  billingRoutes(app, deps.services.usage, deps.services.adminKey);
  // Recognition, issue 5 part B: faces and segmentation.
  faceRoutes(app, deps.services.faces, config.limits.maxImageBytes, config.faces.maxFaces);
  segmentRoutes(app, deps.services.segmentation, config.limits.maxImageBytes);
  visionRoutes(app, deps.services.vision, config.limits.maxImageBytes);
  await app.ready();
  return { app, lifecycle };
}
