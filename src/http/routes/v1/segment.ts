import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { segmentFieldsSchema, type SegmentationService } from '../../../services/segmentation.js';
import { readImageRequest } from '../../image-body.js';
import { sendImage } from '../../image-reply.js';
import { imageFields } from '../../schemas.js';

const SegmentJson = Type.Object({
  requestId: Type.String(),
  image: Type.String({ description: 'base64' }),
  format: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  channels: Type.Integer(),
  bytes: Type.Integer(),
});

/** POST /v1/images/segment: the person kept, the background transparent, blurred or replaced, or the mask itself. */
export function segmentRoutes(app: FastifyInstance, segmentation: SegmentationService, maxImageBytes: number): void {
  app.post('/v1/images/segment', {
    config: { action: 'images.segment' },
    schema: {
      tags: ['images'],
      summary: 'Portrait segmentation: cutout PNG with a transparent background, the 8-bit mask, or the background blurred or replaced',
      description: 'Send JSON, or multipart/form-data with the file in `image` (and, for mode replace, optionally a second file in `background_image`). Answers the image, or JSON with base64 under Accept: application/json.',
      body: Type.Object({ ...imageFields, ...segmentFieldsSchema.properties }, { additionalProperties: false }),
      response: {
        200: {
          description: 'The segmented image',
          content: {
            'image/*': { schema: Type.String({ format: 'binary' }) },
            'application/json': { schema: SegmentJson },
          },
        },
      },
    },
  }, async (request, reply) => {
    const { source, fields, fromMultipart, files } = await readImageRequest(request, maxImageBytes, ['background_image']);
    const upload = files?.background_image;
    const result = await segmentation.segmentSource(source, fields, { coerce: fromMultipart, ...(upload && { backgroundUpload: upload }) });
    return sendImage(request, reply, { data: result.data, format: result.format, width: result.width, height: result.height, extra: { channels: result.channels } });
  });
}
