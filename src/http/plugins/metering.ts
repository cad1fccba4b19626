import type { FastifyInstance } from 'fastify';
import type { UsageMeter, UsageOutcome } from '../../services/accounts/usage-meter.js';
import { appIdOf } from '../request-context.js';

export function outcomeOf(status: number): UsageOutcome {
  return status < 400 ? 'success' : status < 500 ? 'client_error' : 'server_error';
}

/**
 * One usage line per metered item of every call to a route with an action (`config.action`), after the
 * response has gone: the handler's `meter()` lines, or one unit of the route's action when it recorded none.
 * A call refused before any app was known (bad credentials) has nobody to record against and is skipped; a call
 * refused with an app (429, scope) is recorded as a client error. Only successful lines are ever billed.
 */
export function registerMetering(app: FastifyInstance, meter: UsageMeter, authMode: 'on' | 'off'): void {
  meter.useLog(app.log.child({ component: 'usage-meter' }));
  app.addHook('onResponse', async (request, reply) => {
    const action = request.routeOptions.config?.action;
    if (!action) return;
    // With authentication off every call is the default app's; with it on, only an authenticated call has an app.
    if (!request.principal && authMode === 'on') return;
    const status = reply.statusCode;
    const common = {
      requestId: String(request.id),
      appId: appIdOf(request),
      secretId: request.principal?.keyId ?? null,
      outcome: outcomeOf(status),
      status,
      latencyMs: reply.elapsedTime,
    };
    const items = request.usage?.length ? [...request.usage] : [{ action, units: 1 }];
    // A call billed under other actions (analyze bills each feature) still leaves one line of its own, of zero
    // units: quota counters, kept per route action, are rebuilt from these lines after a restart.
    if (!items.some((i) => i.action === action)) items.push({ action, units: 0 });
    for (const item of items) meter.record({ ...common, action: item.action, units: item.units });
  });
}
