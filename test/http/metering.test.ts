import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { registerMetering } from '../../src/http/plugins/metering.js';
import { meter } from '../../src/http/request-context.js';
import { UsageMeter, type UsageRecord } from '../../src/services/accounts/usage-meter.js';

/**
 * The hook on a bare server, with authentication simulated the way the accounts layer does it (an onRequest hook
 * that sets request.principal or refuses), so each rule is checked on its own.
 */
async function harness() {
  const stored: UsageRecord[] = [];
  const usage = new UsageMeter({ insertMany: async (r) => { stored.push(...r); } }, { flushMs: 60_000 });
  const app = Fastify({ logger: false });
  app.addHook('onRequest', async (request, reply) => {
    const auth = request.headers.authorization;
    if (auth === undefined) return reply.code(401).send({ error: 'no credentials' });
    request.principal = { appId: 'app_1', keyId: 'AKID1', scopes: ['*'], via: 'token' };
    if (auth === 'limited') return reply.code(429).send({ error: 'slow down' });
  });
  registerMetering(app, usage, 'on');
  app.post('/plain', { config: { action: 'images.info' } }, async () => ({ ok: true }));
  app.post('/analyze', { config: { action: 'vision.analyze' } }, async (request) => {
    meter(request, 'vision.objects');
    meter(request, 'vision.labels', 1);
    return { ok: true };
  });
  app.post('/upscale', { config: { action: 'images.upscale' } }, async (request) => {
    meter(request, 'images.upscale', 4.19);
    return { ok: true };
  });
  app.post('/broken', { config: { action: 'images.process' } }, async () => { throw new Error('boom'); });
  app.get('/free', async () => ({ ok: true }));
  await app.ready();
  const call = async (url: string, authorization?: string) => {
    const res = await app.inject({ method: url === '/free' ? 'GET' : 'POST', url, headers: authorization ? { authorization } : {} });
    return res.statusCode;
  };
  return { app, usage, stored, call };
}

test('lines per item, outcome from the status, the key that authenticated; refusals without an app are skipped', async () => {
  const { app, usage, stored, call } = await harness();
  await call('/plain', 'token');
  await call('/analyze', 'token');
  await call('/upscale', 'token');
  await call('/broken', 'token');
  await call('/plain', 'limited');
  await call('/plain'); // 401 before any app is known
  await call('/free', 'token'); // no action: not metered
  await usage.close();
  await app.close();
  const lines = stored.map((r) => [r.action, r.units, r.outcome, r.status]);
  assert.deepEqual(lines, [
    ['images.info', 1, 'success', 200],
    ['vision.objects', 1, 'success', 200],
    ['vision.labels', 1, 'success', 200],
    // ...and one line of its own route action, zero units, so the analyze quota can be rebuilt after a restart.
    ['vision.analyze', 0, 'success', 200],
    ['images.upscale', 4.19, 'success', 200],
    ['images.process', 1, 'server_error', 500],
    ['images.info', 1, 'client_error', 429],
  ]);
  assert.ok(stored.every((r) => r.appId === 'app_1' && r.secretId === 'AKID1' && r.latencyMs >= 0 && typeof r.requestId === 'string'));
  // Every line of the analyze call carries its one request id.
  assert.equal(stored[1]!.requestId, stored[2]!.requestId);
  assert.equal(stored[1]!.requestId, stored[3]!.requestId);
});
