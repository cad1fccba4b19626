import type { TensorData } from '../../runtime.js';

/**
 * BlazeFace decoding (MediaPipe's SSD anchors), written from the model's published layout and checked against
 * @vladmandic/human's decode: 896 anchors for a 256x256 input, a 16x16 grid with 2 anchors per cell (stride 16)
 * then an 8x8 grid with 6 (stride 32). Each anchor regresses 16 numbers in input pixels, relative to the
 * anchor centre: cx, cy, w, h and six keypoints (x, y), plus one logit.
 */

export interface Point { x: number; y: number }
export interface Box { x1: number; y1: number; x2: number; y2: number }
export interface Candidate { score: number; box: Box; keypoints: Point[] }

export const keypointCount = 6;

/** Anchor centres in input pixels, in the order the model emits them. */
export function blazefaceAnchors(size: number): Float32Array {
  const layers = [{ stride: size / 16, perCell: 2 }, { stride: size / 8, perCell: 6 }];
  const out: number[] = [];
  for (const { stride, perCell } of layers) {
    const cells = Math.floor((size + stride - 1) / stride);
    for (let gy = 0; gy < cells; gy++) {
      for (let gx = 0; gx < cells; gx++) {
        for (let n = 0; n < perCell; n++) out.push(stride * (gx + 0.5), stride * (gy + 0.5));
      }
    }
  }
  return Float32Array.from(out);
}

/**
 * The converted graph answers four tensors (scores and regressors of the two grids) under names that say
 * nothing; they are told apart by shape: [1,512,1], [1,384,1], [1,512,16], [1,384,16]. The result is one
 * [896, 17] table, grid 16 first, as the anchors are laid out.
 */
export function assembleOutputs(outputs: Record<string, TensorData>): Float32Array {
  const all = Object.values(outputs);
  const find = (rows: number, cols: number) => {
    const t = all.find((o) => o.dims.length === 3 && o.dims[1] === rows && o.dims[2] === cols);
    if (!t) throw new Error(`blazeface: no output of shape [1,${rows},${cols}] (has ${all.map((o) => `[${o.dims}]`).join(', ')})`);
    return t.data;
  };
  const table = new Float32Array(896 * 17);
  let row = 0;
  for (const rows of [512, 384]) {
    const scores = find(rows, 1);
    const regs = find(rows, 16);
    for (let i = 0; i < rows; i++, row++) {
      table[row * 17] = scores[i]!;
      table.set(regs.subarray(i * 16, i * 16 + 16), row * 17 + 1);
    }
  }
  return table;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Every anchor whose score passes `minScore`, decoded to boxes and keypoints in input pixels. */
export function decodeBlazeface(table: Float32Array, anchors: Float32Array, minScore: number): Candidate[] {
  const count = anchors.length / 2;
  if (table.length !== count * 17) throw new Error(`blazeface: expected ${count * 17} values but received ${table.length}`);
  const out: Candidate[] = [];
  for (let i = 0; i < count; i++) {
    const r = i * 17;
    const score = sigmoid(table[r]!);
    if (score < minScore) continue;
    const ax = anchors[i * 2]!;
    const ay = anchors[i * 2 + 1]!;
    const cx = table[r + 1]! + ax;
    const cy = table[r + 2]! + ay;
    const w = table[r + 3]!;
    const h = table[r + 4]!;
    const keypoints: Point[] = [];
    for (let k = 0; k < keypointCount; k++) keypoints.push({ x: table[r + 5 + k * 2]! + ax, y: table[r + 6 + k * 2]! + ay });
    out.push({ score, box: { x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 }, keypoints });
  }
  return out;
}
