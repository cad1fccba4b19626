import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import type { AuthConfig } from '../../config/env.js';
import type { Authenticated, Authenticator } from '../../services/accounts/authenticator.js';
import type { RateLimiter } from '../../services/accounts/limiter.js';
import { scopeAllows } from '../../services/accounts/scopes.js';
import { parseTc3Authorization, sha256Hex, type Tc3Authorization } from '../../services/accounts/tc3.js';

interface PendingSignature { auth: Tc3Authorization; secretKey: string; timestamp: number; verified: boolean }

declare module 'fastify' {
  interface FastifyRequest {
    tc3?: PendingSignature;
    /** Set when the credentials can only be in the multipart body (a DeepStack-style api_key field). */
    deferredAuth?: (apiKey: unknown) => Promise<void>;
  }
  interface FastifyContextConfig {
    /** Routes that speak Tencent Cloud's protocol (errors as Response.Error, TC3 signatures over "/"). */
    tencent?: boolean;
  }
}

export interface AuthDeps {
  config: AuthConfig;
  authenticator: Authenticator;
  limiter: RateLimiter;
  maxBodyBytes: number;
  /** The app that open mode (IMGSENSE_AUTH=off) serves every call as. */
  openAppId: string;
}

/** Health, metrics, docs, the token endpoint and the operator API (admin key) need no app credentials. */
function needsAppAuth(request: FastifyRequest): boolean {
  const url = request.routeOptions.url;
  if (url === undefined) return false;
  if (request.routeOptions.config.tencent) return true;
  return url.startsWith('/v1/') && !url.startsWith('/v1/admin/') && url !== '/v1/oauth/token';
}

async function readAll(payload: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of payload as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new AppError('RequestSizeLimitExceeded', `Expected a signed request body of at most ${limit} bytes but received more`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Authentication, scopes and limits for every /v1 route, in hooks so that no handler can forget them.
 * Bearer tokens and API keys are checked on arrival; a TC3 signature covers the body, so it is checked once the
 * body has been read (bounded), before anything parses it.
 */
export function registerAuth(app: FastifyInstance, deps: AuthDeps): void {
  const { config, authenticator, limiter } = deps;

  async function admit(request: FastifyRequest, reply: FastifyReply, who: Authenticated): Promise<void> {
    request.principal = { appId: who.app.appId, keyId: who.secretId, scopes: who.app.scopes, via: who.via };
    const action = request.routeOptions.config.action;
    if (!action) return;
    if (!scopeAllows(who.app.scopes, action)) {
      throw new AppError('UnauthorizedOperation', `Expected an app granted the scope ${action} but app ${who.app.appId} has ${JSON.stringify(who.app.scopes)}`);
    }
    const done = await limiter.admit(who.app.appId, action, who.app.limits);
    reply.raw.once('close', () => done(reply.statusCode < 400));
  }

  async function verifySignature(request: FastifyRequest, reply: FastifyReply, body: Buffer): Promise<void> {
    const pending = request.tc3!;
    const headers: Record<string, string> = {};
    for (const name of pending.auth.signedHeaders) {
      const value = request.headers[name];
      headers[name] = Array.isArray(value) ? value.join(',') : value ?? '';
    }
    const host = headers.host ?? '';
    const hostVariants = host.includes(':') && !host.endsWith(']') ? [host, host.replace(/:\d+$/, '')] : [host];
    const [path, query = ''] = request.url.split(/\?(.*)/s, 2) as [string, string?];
    const who = await authenticator.finishSignature(pending.auth, pending.secretKey, pending.timestamp, {
      method: request.method, path, query, headers, signedHeaders: pending.auth.signedHeaders, payloadHash: sha256Hex(body),
    }, hostVariants);
    pending.verified = true;
    await admit(request, reply, who);
  }

  app.addHook('onRequest', async (request, reply) => {
    if (!needsAppAuth(request)) return;
    if (config.mode === 'off') {
      request.principal = { appId: deps.openAppId, scopes: ['*'], via: 'open' };
      return;
    }
    const header = request.headers.authorization;
    if (header) {
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (bearer) return admit(request, reply, await authenticator.token(bearer[1]!));
      if (/^TC3-HMAC-SHA256\s/i.test(header)) {
        const auth = parseTc3Authorization(header);
        if (!auth) throw new AppError('AuthFailure.InvalidAuthorization', 'Expected Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<date>/<service>/tc3_request, SignedHeaders=<names>, Signature=<64 hex> but received a malformed header');
        const ts = request.headers['x-tc-timestamp'];
        const { secretKey, timestamp } = await authenticator.beginSignature(auth, Array.isArray(ts) ? ts[0] : ts);
        request.tc3 = { auth, secretKey, timestamp, verified: false };
        return;
      }
      throw new AppError('AuthFailure.InvalidAuthorization', 'Expected Authorization: Bearer <access token> or a TC3-HMAC-SHA256 signature but received another scheme');
    }
    if (config.apiKeys) {
      const key = request.headers['x-api-key'] ?? (request.query as Record<string, unknown> | undefined)?.api_key;
      if (typeof key === 'string' && key) return admit(request, reply, await authenticator.apiKey(key));
      // isMultipart() is only known once the body parser ran; the header says it now.
      if (/^multipart\/form-data/i.test(request.headers['content-type'] ?? '')) {
        request.deferredAuth = async (apiKey) => {
          request.deferredAuth = undefined;
          if (typeof apiKey !== 'string' || !apiKey) throw missingCredentials(true);
          await admit(request, reply, await authenticator.apiKey(apiKey));
        };
        return;
      }
    }
    throw missingCredentials(config.apiKeys);
  });

  app.addHook('preParsing', async (request, reply, payload) => {
    if (!request.tc3) return payload;
    const body = await readAll(payload, deps.maxBodyBytes);
    await verifySignature(request, reply, body);
    const replay = Readable.from([body]) as Readable & { receivedEncodedLength?: number };
    replay.receivedEncodedLength = body.length;
    return replay;
  });

  app.addHook('preValidation', async (request, reply) => {
    // Requests without a body never pass through preParsing's check.
    if (request.tc3 && !request.tc3.verified) await verifySignature(request, reply, Buffer.alloc(0));
  });

  // A handler that never read its multipart body must not have answered without the deferred credentials.
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.deferredAuth && reply.statusCode < 400) {
      request.deferredAuth = undefined;
      request.log.error('a multipart route answered without reading its api_key field; refusing the response');
      reply.code(401).type('application/json; charset=utf-8');
      return JSON.stringify({ error: { code: 'AuthFailure.InvalidAuthorization', message: 'Expected credentials but received none', requestId: String(request.id) } });
    }
    return payload;
  });
}

function missingCredentials(apiKeys: boolean): AppError {
  const ways = ['Authorization: Bearer <access token>', 'a TC3-HMAC-SHA256 signature'];
  if (apiKeys) ways.push('X-Api-Key or an api_key field');
  return new AppError('AuthFailure.InvalidAuthorization', `Expected credentials (${ways.join(', ')}) but received none`);
}
