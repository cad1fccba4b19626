import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { AppError, invalidValue } from '../../../errors/app-error.js';
import type { AccountsService } from '../../../services/accounts/accounts.js';
import { appIdOf } from '../../request-context.js';

const TokenRequest = Type.Object({
  grant_type: Type.String({ description: 'client_credentials' }),
  client_id: Type.String({ maxLength: 128, description: 'the SecretId' }),
  client_secret: Type.String({ maxLength: 256, description: 'the SecretKey' }),
  scope: Type.Optional(Type.String()),
}, { additionalProperties: false });

const TokenAnswer = Type.Object({ access_token: Type.String(), token_type: Type.Literal('Bearer'), expires_in: Type.Integer(), app_id: Type.String() });
const Revoke = Type.Object({ token: Type.String({ maxLength: 256 }) }, { additionalProperties: false });

/** OAuth2 client credentials (RFC 6749 4.4): form or JSON in, a bearer token out. */
export function oauthRoutes(app: FastifyInstance, accounts: AccountsService): void {
  // Token requests arrive form-encoded by the standard; parse that one content type for these routes.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.post('/v1/oauth/token', {
    schema: { tags: ['auth'], summary: 'Exchange a key pair for an access token (client credentials)', body: TokenRequest, response: { 200: TokenAnswer } },
  }, async (request, reply) => {
    const body = request.body as Static<typeof TokenRequest> | undefined;
    if (!body) throw new AppError('MissingParameter', 'Expected grant_type, client_id and client_secret as a form or JSON body but received nothing');
    if (body.grant_type !== 'client_credentials') throw invalidValue('grant_type', 'client_credentials', body.grant_type);
    const token = await accounts.issueToken(body.client_id, body.client_secret);
    reply.header('cache-control', 'no-store');
    return { access_token: token.accessToken, token_type: 'Bearer' as const, expires_in: token.expiresIn, app_id: token.appId };
  });

  app.post('/v1/oauth/revoke', {
    schema: { tags: ['auth'], summary: 'Revoke an access token of the calling app (RFC 7009)', body: Revoke },
  }, async (request) => {
    const { token } = request.body as Static<typeof Revoke>;
    const revoked = await accounts.revokeToken(appIdOf(request), token);
    return { requestId: String(request.id), revoked };
  });
}
