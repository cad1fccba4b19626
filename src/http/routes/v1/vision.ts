import type { FastifyInstance } from 'fastify';
import { Type, type TObject, type TProperties } from '@sinclair/typebox';
import { nsfwClasses } from '../../../inference/registry.js';
import type { VisionService } from '../../../services/vision/index.js';
import { AnalyzeParams, LabelsParams, ModerationParams, ObjectsParams } from '../../../services/vision/params.js';
import { meter } from '../../request-context.js';
import { AppError } from '../../../errors/app-error.js';
import { scopeAllows } from '../../../services/accounts/scopes.js';
import { readImageRequest } from '../../image-body.js';
import { imageFields } from '../../schemas.js';

/** The action each analyze feature is billed and scoped as: that of the endpoint computing it alone. */
const featureActions = { objects: 'vision.objects', labels: 'vision.labels', moderation: 'vision.moderation', faces: 'faces.detect' } as const;

const withImage = <T extends TProperties>(params: TObject<T>) =>
  Type.Object({ ...imageFields, ...params.properties }, { additionalProperties: false });

const Box = Type.Object({ x: Type.Integer(), y: Type.Integer(), width: Type.Integer(), height: Type.Integer() }, { description: 'pixels of the original image after EXIF orientation' });
const DetectedObject = Type.Object({
  name: Type.String({ description: 'COCO class name' }),
  nameZh: Type.String(),
  classId: Type.Integer({ description: 'index in the COCO-80 list, 0 (person) to 79 (toothbrush)' }),
  score: Type.Number({ minimum: 0, maximum: 1 }),
  box: Box,
});
const Scores = Type.Object(Object.fromEntries(nsfwClasses.map((c) => [c, Type.Number({ minimum: 0, maximum: 1 })])));
const Moderation = Type.Object({
  model: Type.String(),
  suggestion: Type.Union([Type.Literal('Pass'), Type.Literal('Review'), Type.Literal('Block')]),
  scores: Scores,
  frames: Type.Optional(Type.Object({
    total: Type.Integer(),
    judged: Type.Array(Type.Integer(), { description: '0-based frame indices judged' }),
    worst: Type.Integer({ description: 'the frame whose scores are answered' }),
  })),
});
const Label = Type.Object({
  name: Type.String({ description: 'in the language asked for' }),
  nameEn: Type.String(),
  nameZh: Type.String(),
  confidence: Type.Integer({ minimum: 0, maximum: 100 }),
  category: Type.String(),
  source: Type.String({ description: 'objects, moderation, or an operator model id' }),
});

const multipartNote = 'Send JSON, or multipart/form-data with the file in `image` and the other fields as text (arrays and objects as JSON).';

/**
 * The recognition endpoints. Each declares its billable action; analyze bills one unit per feature computed.
 * Handlers only read the request and hand the fields to the vision service, which validates them.
 */
export function visionRoutes(app: FastifyInstance, vision: VisionService, maxImageBytes: number): void {
  app.post('/v1/vision/objects', {
    config: { action: 'vision.objects' },
    schema: {
      tags: ['vision'],
      summary: 'Detect COCO-80 objects: name, score and box of each, best first',
      description: multipartNote,
      body: withImage(ObjectsParams),
      response: { 200: Type.Object({ requestId: Type.String(), model: Type.String(), imageWidth: Type.Integer(), imageHeight: Type.Integer(), objects: Type.Array(DetectedObject) }) },
    },
  }, async (request) => {
    const { source, fields, fromMultipart } = await readImageRequest(request, maxImageBytes);
    return { requestId: String(request.id), ...(await vision.objects(source, fields, { coerce: fromMultipart })) };
  });

  app.post('/v1/vision/moderation', {
    config: { action: 'vision.moderation' },
    schema: {
      tags: ['vision'],
      summary: 'Judge an image for nudity and sexual content: Pass, Review or Block, with the class scores',
      description: `${multipartNote} Animated GIF/WebP: several frames are judged and the worst is answered.`,
      body: withImage(ModerationParams),
      response: { 200: Type.Object({ requestId: Type.String(), ...Moderation.properties }) },
    },
  }, async (request) => {
    const { source, fields, fromMultipart } = await readImageRequest(request, maxImageBytes);
    return { requestId: String(request.id), ...(await vision.moderation(source, fields, { coerce: fromMultipart })) };
  });

  app.post('/v1/vision/labels', {
    config: { action: 'vision.labels' },
    schema: {
      tags: ['vision'],
      summary: 'Labels for the whole image, from the objects found, the moderation classes and operator classifiers',
      description: multipartNote,
      body: withImage(LabelsParams),
      response: { 200: Type.Object({ requestId: Type.String(), labels: Type.Array(Label) }) },
    },
  }, async (request) => {
    const { source, fields, fromMultipart } = await readImageRequest(request, maxImageBytes);
    return { requestId: String(request.id), ...(await vision.labels(source, fields, { coerce: fromMultipart })) };
  });

  app.post('/v1/vision/analyze', {
    config: { action: 'vision.analyze' },
    schema: {
      tags: ['vision'],
      summary: 'Several recognition features on one image, decoded once; one billed unit per feature',
      description: `${multipartNote} Each feature's parameters go in an object named after it, e.g. {"features":["objects"],"objects":{"top_k":10}}.`,
      body: withImage(AnalyzeParams),
      response: {
        200: Type.Object({
          requestId: Type.String(),
          objects: Type.Optional(Type.Array(DetectedObject)),
          labels: Type.Optional(Type.Array(Label)),
          moderation: Type.Optional(Moderation),
          faces: Type.Optional(Type.Unknown({ description: 'as /v1/faces/detect answers faces' })),
        }),
      },
    },
  }, async (request) => {
    const { source, fields, fromMultipart } = await readImageRequest(request, maxImageBytes);
    // Each feature is billed, and scoped, as the endpoint that computes it alone.
    const wanted = Array.isArray(fields.features) ? fields.features.map(String) : [];
    for (const feature of wanted) {
      const action = featureActions[feature as keyof typeof featureActions];
      if (action && request.principal && !scopeAllows(request.principal.scopes, action)) {
        throw new AppError('UnauthorizedOperation', `Expected an app granted the scope ${action} for the ${feature} feature but app ${request.principal.appId} has ${JSON.stringify(request.principal.scopes)}`);
      }
    }
    const { result, computed } = await vision.analyze(source, fields, { coerce: fromMultipart });
    for (const feature of computed) meter(request, featureActions[feature]);
    return { requestId: String(request.id), ...result };
  });
}
