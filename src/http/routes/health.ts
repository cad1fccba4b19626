import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors/app-error.js';
import { registry } from '../../observability/metrics.js';

export interface Lifecycle { ready: boolean; closing: boolean }

const Status = Type.Object({ status: Type.String(), requestId: Type.String() });

export function healthRoutes(app: FastifyInstance, lifecycle: Lifecycle): void {
  app.get('/healthz', {
    schema: { tags: ['operations'], summary: 'Liveness: the process is up', response: { 200: Status } },
  }, async (request) => ({ status: 'ok', requestId: String(request.id) }));

  app.get('/readyz', {
    schema: { tags: ['operations'], summary: 'Readiness: the server takes traffic (503 while starting or shutting down)', response: { 200: Status } },
  }, async (request) => {
    if (!lifecycle.ready || lifecycle.closing) {
      throw new AppError('ServiceUnavailable', lifecycle.closing ? 'The server is shutting down' : 'The server is starting');
    }
    return { status: 'ready', requestId: String(request.id) };
  });

  app.get('/metrics', {
    schema: { tags: ['operations'], summary: 'Prometheus metrics', produces: ['text/plain'] },
  }, async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
}
