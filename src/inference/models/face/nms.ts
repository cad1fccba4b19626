import { greedy } from '../../math/nms.js';
import type { Box, Candidate } from './blazeface.js';

export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy non-maximum suppression: highest score first, a candidate overlapping a kept one by more than
 * `threshold` IoU is dropped. Face detectors fire on many neighbouring anchors for one face, and tiles
 * overlap, so the same face arrives several times.
 */
export function nms<T extends Pick<Candidate, 'score' | 'box'>>(candidates: readonly T[], threshold: number, opts: { containment?: number; max?: number } = {}): T[] {
  const containment = opts.containment ?? 1;
  return greedy(candidates, (k, c) => iou(k.box, c.box) > threshold || overlapOfSmaller(k.box, c.box) > containment, opts.max);
}

/**
 * Intersection over the smaller box: a face detected once whole and once as a smaller box inside it has a low
 * IoU (the areas differ) but is plainly one face.
 */
export function overlapOfSmaller(a: Box, b: Box): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const smaller = Math.min((a.x2 - a.x1) * (a.y2 - a.y1), (b.x2 - b.x1) * (b.y2 - b.y1));
  return smaller > 0 ? (w * h) / smaller : 0;
}
