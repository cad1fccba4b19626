/** Boxes normalised to 0..1 of the model input: x, y of the top-left corner, width, height. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Detection {
  classId: number;
  score: number;
  box: Box;
}

export function iou(a: Box, b: Box): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy non-maximum suppression per class: the best box of a class suppresses the boxes of the same class
 * that overlap it by more than `iouThreshold`. Per class, because a rider and their horse overlap heavily
 * and both are answers (the reference library runs it across classes and loses one of them).
 * Returns the kept detections, best first; ties keep input order.
 */
export function nms(detections: readonly Detection[], iouThreshold: number, maxOutput = Infinity): Detection[] {
  return greedy(detections, (k, d) => k.classId === d.classId && iou(k.box, d.box) > iouThreshold, maxOutput);
}

/**
 * The greedy loop every suppression here shares: best score first (ties keep input order), a candidate is kept
 * unless `suppresses(kept, candidate)` holds for a box already kept, until `maxOutput` are kept.
 */
export function greedy<T extends { score: number }>(items: readonly T[], suppresses: (kept: T, candidate: T) => boolean, maxOutput = Infinity): T[] {
  const order = items.map((d, i) => [d, i] as const).sort((a, b) => b[0].score - a[0].score || a[1] - b[1]);
  const kept: T[] = [];
  for (const [d] of order) {
    if (kept.length >= maxOutput) break;
    if (!kept.some((k) => suppresses(k, d))) kept.push(d);
  }
  return kept;
}

/**
 * Per-class NMS, then a second pass across classes at a higher overlap: a box nearly identical to a better box
 * of another class is the same object classified twice (NanoDet often answers horse, cow and sheep for one
 * animal); the better class stays. Boxes of different classes that merely overlap (a rider on a horse) stay.
 */
export function suppress(detections: readonly Detection[], opts: { iou: number; crossClassIou: number; maxOutput?: number }): Detection[] {
  const perClass = nms(detections, opts.iou);
  return greedy(perClass, (k, d) => k.classId !== d.classId && iou(k.box, d.box) > opts.crossClassIou, opts.maxOutput);
}
