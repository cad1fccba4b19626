import type { InferenceRuntime, TensorData } from '../runtime.js';
import { suppress, type Detection } from '../math/nms.js';
import { decodeCenternet } from './centernet-decode.js';
import { decodeNanodet, nanodetLevels } from './nanodet-decode.js';

/** The COCO-80 detectors we serve; the first is the default (docs/models.md: why). */
export const detectorIds = ['centernet', 'nanodet'] as const;
export type DetectorId = (typeof detectorIds)[number];

/** Overlaps at which a box suppresses another of its class, and of another class (see math/nms.ts). */
export const suppression = { iou: 0.5, crossClassIou: 0.8 } as const;

/**
 * Runs a detector on its preprocessed input and answers detections normalised to 0..1 of the image (the
 * input is the whole image stretched, so input fractions are image fractions), best first, suppressed.
 */
export async function detectObjects(runtime: InferenceRuntime, id: DetectorId, input: TensorData, minScore: number): Promise<Detection[]> {
  const size = runtime.entry(id).input.size!;
  const out = await runtime.run(id, input);
  const raw = id === 'centernet'
    ? decodeCenternet(out['tower_0/detections']!, size, minScore)
    : decodeNanodet(nanodetLevels(out), size, minScore);
  return suppress(raw, suppression);
}

/**
 * A classifier's probabilities over its labels: the first output, softmaxed unless it already is a
 * distribution (nsfwjs ends in softmax; an operator's ImageNet model may answer logits).
 */
export async function classify(runtime: InferenceRuntime, id: string, input: TensorData): Promise<number[]> {
  const out = await runtime.run(id, input);
  const first = Object.values(out)[0]!;
  const values = Array.from(first.data);
  const sum = values.reduce((a, b) => a + b, 0);
  if (values.every((v) => v >= 0 && v <= 1) && Math.abs(sum - 1) < 1e-3) return values;
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}
