import type { RecognitionCase } from './types.js';

/**
 * The vision endpoints' cases. Human runs the detectors but has no nsfw model, so moderation, labels and
 * analyze have an empty humanConfig: the bench measures the API alone for them.
 */
const photos = ['objects/dog.jpg', 'objects/person.jpg', 'objects/horses.jpg', 'objects/giraffe.jpg', 'objects/eagle.jpg', 'objects/kite.jpg'];
const detector = (model: 'nanodet' | 'centernet') => ({
  object: { enabled: true, modelPath: `${model}.json`, minConfidence: 0.3, maxDetected: 10, iouThreshold: 0.4, skipFrames: 0, skipTime: 0 },
});

export const cases: RecognitionCase[] = [
  { name: 'objects (nanodet)', path: '/v1/vision/objects', fields: { model: 'nanodet', top_k: 10, min_score: 0.3 }, images: photos, humanConfig: detector('nanodet'), decode: { maxSide: 2048, minSide: 416 } },
  { name: 'objects (centernet)', path: '/v1/vision/objects', fields: { model: 'centernet', top_k: 10, min_score: 0.3 }, images: photos, humanConfig: detector('centernet'), decode: { maxSide: 2048, minSide: 512 } },
  { name: 'moderation (nsfw-mobilenet-v2)', path: '/v1/vision/moderation', fields: {}, images: photos, humanConfig: {} },
  { name: 'labels', path: '/v1/vision/labels', fields: {}, images: photos, humanConfig: {} },
  { name: 'analyze (objects+labels+moderation)', path: '/v1/vision/analyze', fields: { features: ['objects', 'labels', 'moderation'] }, images: photos, humanConfig: {} },
];
