import { Type, type TObject } from '@sinclair/typebox';
import { validate } from './validate.js';

/** The face attributes a request may ask for; 'all' is every one. */
export const faceAttributes = ['age', 'gender', 'emotion', 'pose', 'quality', 'liveness'] as const;
export type FaceAttribute = (typeof faceAttributes)[number];

/** What the core takes: complete, defaulted, checked. */
export interface FaceDetectOptions {
  maxFaces: number;
  attributes: ReadonlySet<FaceAttribute>;
  /** Detector score a face needs, 0..1. */
  minScore: number;
}

export const defaultMinScore = 0.6;

/** The fields of a detect request besides the image, as JSON schema; max_faces is bounded by the operator's limit. */
export function faceDetectFieldsSchema(maxFacesLimit: number): TObject {
  return Type.Object({
    max_faces: Type.Optional(Type.Integer({ minimum: 1, maximum: maxFacesLimit, default: maxFacesLimit, description: 'most faces returned, largest first' })),
    attributes: Type.Optional(Type.Array(Type.String({ enum: [...faceAttributes, 'all'] }), {
      maxItems: faceAttributes.length + 1,
      description: `any of ${faceAttributes.join(', ')}, or all; also a comma-separated string ("age,gender" or "all")`,
    })),
    min_score: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: defaultMinScore, description: 'detector score a face needs' })),
  }, { additionalProperties: false });
}

/** Checks the loose fields of a request (JSON, multipart or CLI) and returns the core's options. */
export function parseFaceDetectRequest(fields: Record<string, unknown>, maxFacesLimit: number, opts: { coerce?: boolean } = {}): FaceDetectOptions {
  const input = { ...fields };
  // "all" and "age,gender" read naturally in a form field or a query; the array is the canonical form.
  if (typeof input.attributes === 'string') input.attributes = input.attributes.split(',').map((s) => s.trim()).filter(Boolean);
  const v = validate<{ max_faces?: number; attributes?: string[]; min_score?: number }>(faceDetectFieldsSchema(maxFacesLimit), input, '', opts);
  const list = v.attributes ?? [];
  const attributes = new Set<FaceAttribute>(list.includes('all') ? faceAttributes : (list as FaceAttribute[]));
  return { maxFaces: v.max_faces ?? maxFacesLimit, attributes, minScore: v.min_score ?? defaultMinScore };
}
