import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import { catalogue, isErrorCode, type ErrorCode } from '../../errors/catalogue.js';

/** Fastify's and @fastify/multipart's own error codes, mapped onto the catalogue. */
const frameworkCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'RequestSizeLimitExceeded',
  FST_PARTS_LIMIT: 'InvalidParameter',
  FST_FILES_LIMIT: 'InvalidParameter',
  FST_FIELDS_LIMIT: 'InvalidParameter',
  FST_PROTO_VIOLATION: 'InvalidParameter',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'InvalidParameter',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'InvalidParameter',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'InvalidParameter',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'InvalidParameter',
  FST_ERR_VALIDATION: 'InvalidParameterValue',
};

export interface Envelope { error: { code: ErrorCode; message: string; requestId: string } }

export function envelope(code: ErrorCode, message: string, requestId: string): Envelope {
  return { error: { code, message, requestId } };
}

/** Classifies anything thrown into a catalogued error; the public message never carries internals. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as FastifyError & { statusCode?: number };
  const mapped = e?.code ? frameworkCodes[e.code] : undefined;
  if (mapped) return new AppError(mapped, e.message, { cause: err });
  if (e instanceof SyntaxError || (e?.statusCode === 400 && /JSON/i.test(e.message))) {
    return new AppError('InvalidParameter', `Expected a valid JSON body but received malformed JSON: ${e.message}`, { cause: err });
  }
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    const code: ErrorCode = e.statusCode === 413 ? 'RequestSizeLimitExceeded' : e.statusCode === 429 ? 'RequestLimitExceeded' : 'InvalidParameter';
    return new AppError(code, e.message, { cause: err });
  }
  return new AppError('InternalError', 'An internal error occurred; the request id identifies it in the server log', {
    cause: err,
    detail: e instanceof Error ? e.stack ?? e.message : String(err),
  });
}

export function sendError(reply: FastifyReply, request: FastifyRequest, err: AppError): FastifyReply {
  const status = isErrorCode(err.code) ? catalogue[err.code].status : 500;
  if (err.headers) reply.headers(err.headers);
  // Tencent Cloud clients read errors from a 200 answer's Response.Error.
  if (request.routeOptions.config?.tencent) {
    return reply.code(200).type('application/json; charset=utf-8')
      .send({ Response: { Error: { Code: err.code, Message: err.message }, RequestId: String(request.id) } });
  }
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send(envelope(err.code, err.message, String(request.id)));
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const appErr = toAppError(err);
    if (appErr.status >= 500) request.log.error({ err, code: appErr.code }, 'request failed');
    else request.log.info({ code: appErr.code, detail: appErr.detail ?? appErr.message }, 'request refused');
    return sendError(reply, request, appErr);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, request, new AppError('ResourceNotFound', `No route matches ${request.method} ${request.url.split('?')[0]}`)),
  );
}
