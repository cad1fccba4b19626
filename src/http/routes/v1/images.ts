import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { operationUnionSchema, outputSchema } from '../../../imaging/operations.js';
import type { ProcessingService } from '../../../services/processing.js';
import { validate } from '../../../services/validate.js';
import { readImageRequest } from '../../image-body.js';
import { sendImage } from '../../image-reply.js';
import { imageFields } from '../../schemas.js';

const ProcessBody = Type.Object({
  ...imageFields,
  operations: Type.Optional(Type.Array(operationUnionSchema, { maxItems: 10, description: 'run in order' })),
  output: Type.Optional(outputSchema),
}, { additionalProperties: false });

const ProcessJson = Type.Object({
  requestId: Type.String(),
  image: Type.String({ description: 'base64' }),
  format: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  frames: Type.Integer(),
  bytes: Type.Integer(),
});

const InfoBody = Type.Object({
  ...imageFields,
  gps: Type.Optional(Type.Boolean({ default: false, description: 'include EXIF GPS coordinates (personal data)' })),
}, { additionalProperties: false });

const ProcessFields = Type.Object({ operations: Type.Optional(Type.Unknown()), output: Type.Optional(Type.Unknown()) }, { additionalProperties: false });
const InfoFields = Type.Object({ gps: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

const multipartNote = 'Send JSON, or multipart/form-data with the file in `image` and the other fields as JSON text.';

export function imageRoutes(app: FastifyInstance, processing: ProcessingService, maxImageBytes: number): void {
  app.post('/v1/images/process', {
    config: { action: 'images.process' },
    schema: {
      tags: ['images'],
      summary: 'Run a pipeline of operations on an image',
      description: `${multipartNote} Answers the image, or JSON with base64 under Accept: application/json.`,
      body: ProcessBody,
      response: {
        200: {
          description: 'The processed image',
          content: {
            'image/*': { schema: Type.String({ format: 'binary' }) },
            'application/json': { schema: ProcessJson },
          },
        },
      },
    },
  }, async (request, reply) => {
    const { source, fields, fromMultipart } = await readImageRequest(request, maxImageBytes);
    const result = await processing.process(source, validate(ProcessFields, fields), { coerce: fromMultipart });
    return sendImage(request, reply, { data: result.data, format: result.format, width: result.width, height: result.height, extra: { frames: result.frames } });
  });

  app.post('/v1/images/info', {
    config: { action: 'images.info' },
    schema: {
      tags: ['images'],
      summary: 'Describe an image: format, size, orientation, channels, depth, frames, EXIF summary, dominant colour',
      description: multipartNote,
      body: InfoBody,
    },
  }, async (request) => {
    const { source, fields, fromMultipart } = await readImageRequest(request, maxImageBytes);
    const { gps } = validate<{ gps?: boolean }>(InfoFields, fields, '', { coerce: fromMultipart });
    const info = await processing.info(source, { includeGps: gps ?? false });
    return { requestId: String(request.id), ...info };
  });
}
