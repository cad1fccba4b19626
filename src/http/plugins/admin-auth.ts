import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import { constantTimeEqual } from '../../services/accounts/secrets.js';

/**
 * onRequest hook for /v1/admin routes (before the body is even validated): `Authorization: Bearer <admin key>`, compared in constant time.
 * App credentials are refused here with UnauthorizedOperation, so a leaked app key never reaches the operator API.
 */
export function adminGuard(adminKey: string) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      throw new AppError('AuthFailure.InvalidAuthorization', 'Expected Authorization: Bearer <admin key> for this operator route but received no bearer credentials');
    }
    if (!constantTimeEqual(match[1]!, adminKey)) {
      throw new AppError('UnauthorizedOperation', 'Expected the operator admin key for /v1/admin routes but received other credentials');
    }
  };
}
