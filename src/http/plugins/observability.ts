import type { FastifyInstance } from 'fastify';
import { httpDuration, httpRequests } from '../../observability/metrics.js';

/** Request id on every response; request counts and latency by route pattern (never by raw URL). */
export function registerObservability(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', String(request.id));
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}
