import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { notFound, type JobQueue } from '../../../jobs/queue.js';
import { upscaleFieldsSchema, type UpscaleService } from '../../../services/upscale.js';
import { readImageRequest } from '../../image-body.js';
import { sendImage } from '../../image-reply.js';
import { appIdOf, meter } from '../../request-context.js';
import { imageFields } from '../../schemas.js';

const UpscaleBody = Type.Object({ ...imageFields, ...upscaleFieldsSchema.properties }, { additionalProperties: false });

const UpscaleJson = Type.Object({
  requestId: Type.String(),
  image: Type.String({ description: 'base64' }),
  format: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  bytes: Type.Integer(),
});

const Accepted = Type.Object({ requestId: Type.String(), jobId: Type.String() });

const JobSchema = Type.Object({
  requestId: Type.String(),
  id: Type.String(),
  kind: Type.String(),
  state: Type.String({ enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] }),
  progress: Type.Object({ done: Type.Integer(), total: Type.Integer() }, { description: 'tiles' }),
  params: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  result: Type.Union([Type.Object({ format: Type.String(), width: Type.Integer(), height: Type.Integer(), bytes: Type.Integer() }), Type.Null()]),
});

const JobParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

/**
 * Super-resolution: small inputs answer in the request; larger ones become jobs of the calling app, read,
 * fetched and cancelled under /v1/jobs. Job routes bill nothing: the upscale request did.
 */
export function upscaleRoutes(app: FastifyInstance, upscale: UpscaleService, jobs: JobQueue, maxImageBytes: number): void {
  app.post('/v1/images/upscale', {
    config: { action: 'images.upscale' },
    schema: {
      tags: ['images'],
      summary: 'ESRGAN super-resolution x2, x3 or x4',
      description: 'JSON, or multipart/form-data with the file in `image` and `output` as JSON text. Inputs up to IMGSENSE_UPSCALE_SYNC_MAX_PIXELS answer with the image (or JSON with base64 under Accept: application/json); larger ones answer 202 with a job.',
      body: UpscaleBody,
      response: {
        200: {
          description: 'The upscaled image',
          content: { 'image/*': { schema: Type.String({ format: 'binary' }) }, 'application/json': { schema: UpscaleJson } },
        },
        202: { description: 'Queued as a job: poll Location', ...Accepted },
      },
    },
  }, async (request, reply) => {
    const { source, fields, fromMultipart } = await readImageRequest(request, maxImageBytes);
    const prep = await upscale.prepare(source, fields, { coerce: fromMultipart });
    // Billed by output megapixels (the price table's unit for images.upscale), as the work grows with them.
    meter(request, 'images.upscale', Math.round(prep.outWidth * prep.outHeight) / 1e6);
    if (!prep.sync) {
      const job = await jobs.submit({ appId: appIdOf(request), kind: 'upscale', params: { ...prep.params }, input: prep.probe.bytes, total: prep.tiles });
      return reply.code(202).header('Location', `/v1/jobs/${job.id}`).send({ requestId: String(request.id), jobId: job.id });
    }
    const result = await upscale.run(prep, { deadline: Date.now() + upscale.opts.limits.processTimeoutMs });
    return sendImage(request, reply, { data: result.data, format: result.format, width: result.width, height: result.height });
  });

  app.get('/v1/jobs/:id', {
    schema: { tags: ['jobs'], summary: 'A job: state, progress in tiles, timings, error, result size', params: JobParams, response: { 200: JobSchema } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const job = await jobs.get(appIdOf(request), id);
    if (!job) throw notFound(id);
    return { requestId: String(request.id), ...job };
  });

  app.get('/v1/jobs/:id/result', {
    schema: {
      tags: ['jobs'], summary: 'The finished image of a succeeded job', params: JobParams,
      response: { 200: { description: 'The image', content: { 'image/*': { schema: Type.String({ format: 'binary' }) } } } },
    },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const result = await jobs.openResult(appIdOf(request), id);
    const info = result.view.result;
    if (info) reply.header('X-Image-Width', info.width).header('X-Image-Height', info.height);
    return reply.type(result.contentType).header('content-length', result.bytes).send(result.stream);
  });

  app.delete('/v1/jobs/:id', {
    schema: { tags: ['jobs'], summary: 'Cancel a queued or running job (a running one stops at its next tile)', params: JobParams, response: { 200: JobSchema } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const job = await jobs.cancel(appIdOf(request), id);
    if (!job) throw notFound(id);
    return { requestId: String(request.id), ...job };
  });
}
