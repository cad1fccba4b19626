import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { faceDetectFieldsSchema } from '../../../services/faces-request.js';
import type { FaceService } from '../../../services/faces.js';
import { readImageRequest } from '../../image-body.js';
import { imageFields } from '../../schemas.js';

const Box = Type.Object({ x: Type.Integer(), y: Type.Integer(), width: Type.Integer(), height: Type.Integer() });
const Face = Type.Object({
  box: Box,
  score: Type.Number({ description: 'detector score 0..1' }),
  landmarks: Type.Array(Type.Object({ name: Type.String(), x: Type.Integer(), y: Type.Integer() }), { description: 'rightEye, leftEye, nose, mouth, rightEar, leftEar (the subject\'s own left and right)' }),
  attributes: Type.Optional(Type.Object({
    age: Type.Optional(Type.Number({ description: 'years' })),
    gender: Type.Optional(Type.Object({ value: Type.String({ enum: ['male', 'female'] }), score: Type.Number() })),
    emotion: Type.Optional(Type.Object({ value: Type.String(), scores: Type.Record(Type.String(), Type.Number()) })),
    pose: Type.Optional(Type.Object({ yaw: Type.Number(), pitch: Type.Number(), roll: Type.Number() }, { description: 'degrees' })),
    quality: Type.Optional(Type.Object({ score: Type.Number({ description: '0..100' }), sharpness: Type.Number(), brightness: Type.Number(), size: Type.Integer() })),
    liveness: Type.Optional(Type.Object({ score: Type.Number({ description: '0..1' }) })),
  })),
  tooSmall: Type.Optional(Type.Boolean({ description: 'shorter side below IMGSENSE_FACE_MIN_SIZE; reported without attributes' })),
});
const FacesResponse = Type.Object({ requestId: Type.String(), imageWidth: Type.Integer(), imageHeight: Type.Integer(), faces: Type.Array(Face) });

/** POST /v1/faces/detect: a thin handler; FaceService does the work (and /v1/vision/analyze calls it too). */
export function faceRoutes(app: FastifyInstance, faces: FaceService, maxImageBytes: number, maxFaces: number): void {
  const fields = faceDetectFieldsSchema(maxFaces);
  app.post('/v1/faces/detect', {
    config: { action: 'faces.detect' },
    schema: {
      tags: ['faces'],
      summary: 'Detect faces, largest first, with landmarks and optional attributes (age, gender, emotion, pose, quality, liveness)',
      description: 'Send JSON, or multipart/form-data with the file in `image` and the other fields as text. Coordinates are pixels of the image after EXIF orientation; GIF and other animations: the first frame.',
      // attributes is checked by the service after "all" / "age,gender" strings become arrays, so that a bad item
      // is named (attributes[1]); here it is documented only.
      body: Type.Object({
        ...imageFields,
        ...fields.properties,
        attributes: Type.Optional(Type.Unsafe<unknown>({ description: fields.properties.attributes!.description, examples: [['age', 'gender'], 'all'] })),
      }, { additionalProperties: false }),
      response: { 200: FacesResponse },
    },
  }, async (request) => {
    const { source, fields: rest, fromMultipart } = await readImageRequest(request, maxImageBytes);
    const result = await faces.detectSource(source, rest, { coerce: fromMultipart });
    return { requestId: String(request.id), ...result };
  });
}
