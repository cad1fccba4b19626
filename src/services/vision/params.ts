import { Type, type Static } from '@sinclair/typebox';
import { cocoNames } from '../../inference/models/coco-classes.js';
import { detectorIds } from '../../inference/models/object-detector.js';

/**
 * The parameters of the recognition endpoints, as published in the OpenAPI document and checked by
 * services/validate.ts (HTTP, analyze sub-objects and the CLI alike). Defaults live in `defaults` below: the
 * validator checks, the services fill in.
 */
export const moderationModels = ['nsfw-mobilenet-v2', 'nsfw-mobilenet-v2-mid', 'nsfw-inception-v3'] as const;
export const featureNames = ['objects', 'labels', 'moderation', 'faces'] as const;

export const defaults = {
  objects: { top_k: 5, min_score: 0.3, model: detectorIds[0] },
  labels: { top_k: 10, lang: 'en' as 'en' | 'zh' },
  moderation: { model: moderationModels[0] },
};

export const ObjectsParams = Type.Object({
  top_k: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'most objects answered (default 5)' })),
  min_score: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'lowest score answered, 0..1 (default 0.3)' })),
  classes: Type.Optional(Type.Array(Type.String({ enum: [...cocoNames] }), { maxItems: 80, description: 'only these COCO classes, spelled as COCO does ("potted plant", "tv")' })),
  model: Type.Optional(Type.String({ enum: [...detectorIds], description: `detector (default ${detectorIds[0]})` })),
}, { additionalProperties: false });

export const LabelsParams = Type.Object({
  top_k: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, description: 'most labels answered (default 10)' })),
  lang: Type.Optional(Type.String({ enum: ['en', 'zh'], description: 'language of name and category (default en); nameEn and nameZh are always present' })),
}, { additionalProperties: false });

export const ModerationParams = Type.Object({
  model: Type.Optional(Type.String({ enum: [...moderationModels], description: `classifier (default ${moderationModels[0]})` })),
}, { additionalProperties: false });

export const AnalyzeParams = Type.Object({
  features: Type.Array(Type.String({ enum: [...featureNames] }), { minItems: 1, maxItems: featureNames.length, description: 'what to compute on the one decoded image' }),
  objects: Type.Optional(ObjectsParams),
  labels: Type.Optional(LabelsParams),
  moderation: Type.Optional(ModerationParams),
  faces: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'the fields of /v1/faces/detect: max_faces, min_score, attributes' })),
}, { additionalProperties: false });

export type ObjectsRequest = Static<typeof ObjectsParams>;
export type LabelsRequest = Static<typeof LabelsParams>;
export type ModerationRequest = Static<typeof ModerationParams>;
export type AnalyzeRequest = Static<typeof AnalyzeParams>;
export type FeatureName = (typeof featureNames)[number];
