import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.js';

/** One Tencent Cloud API 3.0 action: the JSON body in, the Response fields out. */
export type TencentAction = (request: FastifyRequest, params: Record<string, unknown>) => Promise<Record<string, unknown>>;

/**
 * The Tencent Cloud API 3.0 entry point: POST / with X-TC-Action, signed with TC3-HMAC-SHA256 (or any of our
 * credentials), answered as { Response: { ..., RequestId } } and errors as Response.Error, so the unmodified
 * tencentcloud-sdk clients talk to imgsense. The compatibility layer registers the actions it maps.
 */
export function tencentRoutes(app: FastifyInstance, actions: Record<string, TencentAction>): void {
  app.post('/', {
    config: { tencent: true },
    schema: { tags: ['compatibility'], summary: 'Tencent Cloud API 3.0 entry (X-TC-Action); errors in Response.Error' },
  }, async (request) => {
    const header = request.headers['x-tc-action'];
    const name = Array.isArray(header) ? header[0] : header;
    const action = name ? actions[name] : undefined;
    if (!action) {
      const known = Object.keys(actions);
      throw new AppError('InvalidAction', `Expected X-TC-Action to be one of ${known.length ? known.join(', ') : '(none yet)'} but received ${JSON.stringify(name ?? null)}`);
    }
    const body = request.body;
    const params = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
    return { Response: { ...(await action(request, params)), RequestId: String(request.id) } };
  });
}
