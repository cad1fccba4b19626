import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AccountsService, AppRecord } from '../../../services/accounts/accounts.js';
import { scopePattern } from '../../../services/accounts/scopes.js';
import { adminGuard } from '../../plugins/admin-auth.js';

const Limits = Type.Object({
  qps: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'requests per second per API (token bucket)' })),
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'requests in flight per API' })),
  daily: Type.Optional(Type.Integer({ minimum: 0, description: 'successful calls per API per UTC day' })),
  monthly: Type.Optional(Type.Integer({ minimum: 0, description: 'successful calls per API per UTC month' })),
}, { additionalProperties: false });

const Scopes = Type.Array(Type.String({ pattern: scopePattern }), {
  maxItems: 100, description: 'APIs the app may call: "*", a family like "vision.*", or an action like "vision.objects"',
});

const CreateApp = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  scopes: Type.Optional(Scopes),
  limits: Type.Optional(Limits),
}, { additionalProperties: false });

const PatchApp = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  scopes: Type.Optional(Scopes),
  limits: Type.Optional(Limits),
}, { additionalProperties: false });

const AppParams = Type.Object({ appId: Type.String({ maxLength: 64 }) });
const KeyParams = Type.Object({ appId: Type.String({ maxLength: 64 }), secretId: Type.String({ maxLength: 64 }) });

function view(app: AppRecord) {
  return { appId: app.appId, name: app.name, status: app.status, scopes: app.scopes, limits: app.limits, createdAt: new Date(app.createdAt).toISOString(), updatedAt: new Date(app.updatedAt).toISOString() };
}

/** The operator API: apps and their key pairs. Every route needs the admin key. */
export function adminRoutes(app: FastifyInstance, accounts: AccountsService, adminKey: string): void {
  const guard = adminGuard(adminKey);
  const tags = ['admin'];
  const security = [{ adminKey: [] }];

  app.post('/v1/admin/apps', { onRequest: guard, schema: { tags, security, summary: 'Create an app and its first key pair (the secret key is shown only here)', body: CreateApp } }, async (request, reply) => {
    const body = request.body as Static<typeof CreateApp>;
    const created = await accounts.createApp({ name: body.name, ...(body.scopes && { scopes: body.scopes }), ...(body.limits && { limits: body.limits }) });
    reply.code(201);
    return { requestId: String(request.id), ...view(created.app), secretId: created.secretId, secretKey: created.secretKey };
  });

  app.get('/v1/admin/apps', { onRequest: guard, schema: { tags, security, summary: 'List apps' } }, async (request) => ({
    requestId: String(request.id), apps: (await accounts.listApps()).map(view),
  }));

  app.get('/v1/admin/apps/:appId', { onRequest: guard, schema: { tags, security, summary: 'An app and its key pairs (never the secret keys)', params: AppParams } }, async (request) => {
    const { appId } = request.params as Static<typeof AppParams>;
    const found = await accounts.app(appId);
    return { requestId: String(request.id), ...view(found), keys: (await accounts.keys(appId)).map(keyView) };
  });

  app.patch('/v1/admin/apps/:appId', { onRequest: guard, schema: { tags, security, summary: 'Change name, scopes or limits', params: AppParams, body: PatchApp } }, async (request) => {
    const { appId } = request.params as Static<typeof AppParams>;
    return { requestId: String(request.id), ...view(await accounts.updateApp(appId, request.body as Static<typeof PatchApp>)) };
  });

  for (const [verb, status] of [['suspend', 'suspended'], ['resume', 'active']] as const) {
    app.post(`/v1/admin/apps/:appId/${verb}`, { onRequest: guard, schema: { tags, security, summary: `${verb[0]!.toUpperCase()}${verb.slice(1)} an app`, params: AppParams } }, async (request) => {
      const { appId } = request.params as Static<typeof AppParams>;
      return { requestId: String(request.id), ...view(await accounts.updateApp(appId, { status })) };
    });
  }

  app.delete('/v1/admin/apps/:appId', { onRequest: guard, schema: { tags, security, summary: 'Delete an app, its keys and tokens (usage records stay for billing)', params: AppParams } }, async (request) => {
    const { appId } = request.params as Static<typeof AppParams>;
    await accounts.deleteApp(appId);
    return { requestId: String(request.id), deleted: appId };
  });

  app.post('/v1/admin/apps/:appId/keys', { onRequest: guard, schema: { tags, security, summary: 'Add a key pair (at most two per app, for rotation)', params: AppParams } }, async (request, reply) => {
    const { appId } = request.params as Static<typeof AppParams>;
    reply.code(201);
    return { requestId: String(request.id), ...(await accounts.createKey(appId)) };
  });

  for (const [verb, status] of [['disable', 'disabled'], ['enable', 'active']] as const) {
    app.post(`/v1/admin/apps/:appId/keys/:secretId/${verb}`, { onRequest: guard, schema: { tags, security, summary: `${verb[0]!.toUpperCase()}${verb.slice(1)} a key pair`, params: KeyParams } }, async (request) => {
      const { appId, secretId } = request.params as Static<typeof KeyParams>;
      await accounts.setKeyStatus(appId, secretId, status);
      return { requestId: String(request.id), secretId, status };
    });
  }

  app.delete('/v1/admin/apps/:appId/keys/:secretId', { onRequest: guard, schema: { tags, security, summary: 'Delete a key pair and the tokens issued from it', params: KeyParams } }, async (request) => {
    const { appId, secretId } = request.params as Static<typeof KeyParams>;
    await accounts.deleteKey(appId, secretId);
    return { requestId: String(request.id), deleted: secretId };
  });
}

function keyView(k: { secretId: string; status: string; createdAt: number; lastUsedAt: number | null }) {
  return { secretId: k.secretId, status: k.status, createdAt: new Date(k.createdAt).toISOString(), lastUsedAt: k.lastUsedAt && new Date(k.lastUsedAt).toISOString() };
}
