import type { TensorData } from '../runtime.js';
import type { Detection } from '../math/nms.js';

/**
 * NanoDet (GFL head) answers, per feature level, class scores [1, g*g, 80] (already sigmoid) and box
 * distributions [1, g*g, 4*(R+1)]: for each side (left, top, right, bottom) a discrete distribution over
 * 0..R strides from the cell centre. The distance is the distribution's expectation (softmax, then the
 * weighted mean), times the level's stride — the "integral" of Generalized Focal Loss. (The reference library
 * takes the argmax bin instead, which quantises every side to a whole stride.)
 */
export interface NanodetLevel {
  scores: TensorData;
  boxes: TensorData;
}

/** Pairs the six outputs by cell count: the 80-wide one is the scores, the other the box distributions. */
export function nanodetLevels(outputs: Record<string, TensorData>, classes = 80): NanodetLevel[] {
  const byCells = new Map<number, Partial<NanodetLevel>>();
  for (const t of Object.values(outputs)) {
    const cells = t.dims[1]!;
    const level = byCells.get(cells) ?? {};
    if (t.dims[2] === classes) level.scores = t;
    else level.boxes = t;
    byCells.set(cells, level);
  }
  return [...byCells.entries()].sort((a, b) => a[0] - b[0]).map(([cells, l]) => {
    if (!l.scores || !l.boxes) throw new Error(`nanodet: level with ${cells} cells lacks scores or boxes`);
    return l as NanodetLevel;
  });
}

/** Expected value of softmax(logits[offset .. offset+bins]) over bin indices 0..bins-1. */
export function distributionMean(logits: Float32Array, offset: number, bins: number): number {
  let max = -Infinity;
  for (let k = 0; k < bins; k++) max = Math.max(max, logits[offset + k]!);
  let sum = 0;
  let weighted = 0;
  for (let k = 0; k < bins; k++) {
    const e = Math.exp(logits[offset + k]! - max);
    sum += e;
    weighted += e * k;
  }
  return weighted / sum;
}

export function decodeNanodet(levels: readonly NanodetLevel[], inputSize: [number, number], minScore: number): Detection[] {
  const [h, w] = inputSize;
  const out: Detection[] = [];
  for (const { scores, boxes } of levels) {
    const cells = scores.dims[1]!;
    const classes = scores.dims[2]!;
    // Square input, square grid: g x g cells, row-major.
    const g = Math.round(Math.sqrt(cells));
    const strideX = w / g;
    const strideY = h / g;
    const bins = boxes.dims[2]! / 4;
    for (let i = 0; i < cells; i++) {
      const row = Math.floor(i / g);
      const col = i % g;
      let sides: number[] | undefined;
      for (let c = 0; c < classes; c++) {
        const score = scores.data[i * classes + c]!;
        if (!(score >= minScore)) continue;
        sides ??= [0, 1, 2, 3].map((s) => distributionMean(boxes.data, i * bins * 4 + s * bins, bins));
        const cx = (col + 0.5) * strideX;
        const cy = (row + 0.5) * strideY;
        const x1 = Math.max(0, cx - sides[0]! * strideX);
        const y1 = Math.max(0, cy - sides[1]! * strideY);
        const x2 = Math.min(w, cx + sides[2]! * strideX);
        const y2 = Math.min(h, cy + sides[3]! * strideY);
        if (x2 <= x1 || y2 <= y1) continue;
        out.push({ classId: c, score, box: { x: x1 / w, y: y1 / h, width: (x2 - x1) / w, height: (y2 - y1) / h } });
      }
    }
  }
  return out;
}
