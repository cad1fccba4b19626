/**
 * tf.image.cropAndResize on packed 8-bit pixels: a box (in pixels, may reach outside the image) sampled
 * bilinearly onto an out x out grid, black outside the image. The face models were trained on crops made this
 * way (see @vladmandic/human's cutAndResize), so their inputs are made the same way. Pure, no sharp.
 */
export interface Pixels { data: Uint8Array; width: number; height: number; channels: number }
export interface PixelBox { x1: number; y1: number; x2: number; y2: number }

/**
 * Values 0..255 times `scale` (a model's 0..1 range in the same pass), as floats, HWC, or CHW (one plane per
 * channel) for a model that takes NCHW, with the image's channel count. `alloc` provides the output array (a
 * pooled one, say; every element is written). It runs on the request's thread for every face crop (five per face
 * with attributes), so the sampling positions of the columns are worked out once, not per output pixel, and when
 * the crop is enlarged (a face is usually smaller than a model's input) each source row is interpolated across
 * once and shared by the output rows that read it. Either way each value comes from tf's operations in tf's
 * order on the same doubles: t = tl + (tr - tl) * fx, b the same a row below, then (t + (b - t) * fy) * scale;
 * a shared step computes a value once that the plain per-pixel loop computes several times, so no bit changes
 * (test/faces/decode.test.ts).
 */
export function cropAndResize(img: Pixels, box: PixelBox, outW: number, outH: number, scale = 1, alloc?: (length: number) => Float32Array, layout: 'hwc' | 'chw' = 'hwc'): Float32Array {
  const c = img.channels;
  const n = outW * outH * c;
  const out = alloc ? alloc(n) : new Float32Array(n);
  if (layout === 'hwc' || c === 1) return sample(img, box, outW, outH, scale, out, alloc !== undefined, { col: c, chan: 1 });
  // RGB planes are written in the sampling pass itself: a second pass spreading HWC into planes cost as much as
  // the sampling (0.5 ms a facemesh crop).
  if (c === 3) return sample(img, box, outW, outH, scale, out, alloc !== undefined, { col: 1, chan: outW * outH });
  if (scratch.length < n) scratch = new Float32Array(n);
  const hwc = sample(img, box, outW, outH, scale, scratch.subarray(0, n), true, { col: c, chan: 1 });
  const plane = outW * outH;
  for (let p = 0, i = 0; p < plane; p++) for (let ch = 0; ch < c; ch++, i++) out[ch * plane + p] = hwc[i]!;
  return out;
}

let scratch = new Float32Array(0);

/**
 * Where a sampled value goes: channel k of output column ox in a row starting at `base` is at
 * base + ox * col + k * chan (HWC: col = channels, chan = 1; CHW: col = 1, chan = the plane's size). A row's base
 * is oy * outW * col.
 */
interface Steps { col: number; chan: number }

/** The sampling into `out`, laid out by `steps`; `reused`: `out` may hold old values, so what stays black is cleared. */
function sample(img: Pixels, box: PixelBox, outW: number, outH: number, scale: number, out: Float32Array, reused: boolean, steps: Steps): Float32Array {
  const { data, width, height, channels: c } = img;
  // TF maps normalised box edges onto pixel centres 0..size-1; human normalises by size, so do the same.
  const y1 = (box.y1 / height) * (height - 1);
  const y2 = (box.y2 / height) * (height - 1);
  const x1 = (box.x1 / width) * (width - 1);
  const x2 = (box.x2 / width) * (width - 1);
  const sy = outH > 1 ? (y2 - y1) / (outH - 1) : 0;
  const sx = outW > 1 ? (x2 - x1) / (outW - 1) : 0;
  const rowY = (oy: number) => (outH > 1 ? y1 + oy * sy : (y1 + y2) / 2);
  const outside = (v: number, size: number) => v < 0 || v > size - 1;
  // Per output column: the left and right source offsets in a row and the weight. x moves one way along the
  // row, so the columns inside the image are one run, [from, to); the rest stay black.
  const left = new Int32Array(outW);
  const right = new Int32Array(outW);
  const fxs = new Float32Array(outW);
  let from = outW;
  let to = 0;
  for (let ox = 0; ox < outW; ox++) {
    const x = outW > 1 ? x1 + ox * sx : (x1 + x2) / 2;
    if (outside(x, width)) continue;
    if (ox < from) from = ox;
    to = ox + 1;
    const x0 = Math.floor(x);
    left[ox] = x0 * c;
    right[ox] = Math.min(width - 1, x0 + 1) * c;
    fxs[ox] = x - x0;
  }
  if (reused && (from > 0 || to < outW || outside(rowY(0), height) || outside(rowY(outH - 1), height))) out.fill(0);
  const cols = { left, right, fxs, from, to };
  if (Math.abs(sy) < 1) {
    enlarged(data, width, height, c, out, outW, outH, rowY, scale, cols, steps);
    return out;
  }
  for (let oy = 0; oy < outH; oy++) {
    const y = rowY(oy);
    if (outside(y, height)) continue;
    const y0 = Math.floor(y);
    const top = y0 * width * c;
    const bottom = Math.min(height - 1, y0 + 1) * width * c;
    if (c === 3) rowRgb(data, out, top, bottom, y - y0, scale, cols, oy * outW * steps.col, steps);
    else rowAny(data, out, c, top, bottom, y - y0, scale, cols, oy * outW * c);
  }
  return out;
}

interface Columns { left: Int32Array; right: Int32Array; fxs: Float32Array; from: number; to: number }

/** Output rows closer than a source row apart: the two source rows an output row blends, interpolated once. */
function enlarged(data: Uint8Array, width: number, height: number, c: number, out: Float32Array, outW: number, outH: number,
  rowY: (oy: number) => number, scale: number, cols: Columns, steps: Steps): void {
  const row = outW * steps.col;
  let upper = new Float64Array(outW * c);
  let lower = new Float64Array(outW * c);
  let upperRow = -1;
  let lowerRow = -1;
  for (let oy = 0; oy < outH; oy++) {
    const y = rowY(oy);
    if (y < 0 || y > height - 1) continue;
    const y0 = Math.floor(y);
    const y1 = Math.min(height - 1, y0 + 1);
    if (upperRow !== y0) {
      if (lowerRow === y0) {
        const t = upper;
        upper = lower;
        lower = t;
        lowerRow = -1;
      } else {
        across(data, upper, c, y0 * width * c, cols);
      }
      upperRow = y0;
    }
    if (lowerRow !== y1) {
      if (y1 === y0) lower.set(upper);
      else across(data, lower, c, y1 * width * c, cols);
      lowerRow = y1;
    }
    // The next output row often falls between the same two source rows: both in one pass over them.
    const next = oy + 1 < outH ? rowY(oy + 1) : -1;
    const pair = next >= 0 && next <= height - 1 && Math.floor(next) === y0;
    if (c === 3) blendRgb(out, oy * row, row, upper, lower, y - y0, pair ? next - y0 : -1, scale, cols, steps);
    else if (pair) blend2(out, oy * row, (oy + 1) * row, upper, lower, y - y0, next - y0, scale, cols.from * c, cols.to * c);
    else blend(out, oy * row, upper, lower, y - y0, scale, cols.from * c, cols.to * c);
    if (pair) oy++;
  }
}

/** One source row sampled at the output columns, tl + (tr - tl) * fx, kept as doubles. */
function across(data: Uint8Array, row: Float64Array, c: number, start: number, { left, right, fxs, from, to }: Columns): void {
  if (c === 3) {
    for (let ox = from, o = from * 3; ox < to; ox++, o += 3) {
      const l = start + left[ox]!;
      const r = start + right[ox]!;
      const fx = fxs[ox]!;
      const l0 = data[l]!, l1 = data[l + 1]!, l2 = data[l + 2]!;
      row[o] = l0 + (data[r]! - l0) * fx;
      row[o + 1] = l1 + (data[r + 1]! - l1) * fx;
      row[o + 2] = l2 + (data[r + 2]! - l2) * fx;
    }
    return;
  }
  for (let ox = from, o = from * c; ox < to; ox++, o += c) {
    const l = start + left[ox]!;
    const r = start + right[ox]!;
    const fx = fxs[ox]!;
    for (let ch = 0; ch < c; ch++) {
      const a = data[l + ch]!;
      row[o + ch] = a + (data[r + ch]! - a) * fx;
    }
  }
}

function blend(out: Float32Array, base: number, upper: Float64Array, lower: Float64Array, fy: number, scale: number, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const t = upper[i]!;
    out[base + i] = (t + (lower[i]! - t) * fy) * scale;
  }
}

/** blend for two output rows between the same source rows, b - t worked out once for both. */
function blend2(out: Float32Array, base: number, base2: number, upper: Float64Array, lower: Float64Array, fy: number, fy2: number, scale: number, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const t = upper[i]!;
    const d = lower[i]! - t;
    out[base + i] = (t + d * fy) * scale;
    out[base2 + i] = (t + d * fy2) * scale;
  }
}

/**
 * blend and blend2 for RGB, written where `steps` says (HWC or planes). `fy2` < 0: one output row; else a second
 * row `row` values further on, between the same source rows, with b - t worked out once for both.
 */
function blendRgb(out: Float32Array, base: number, row: number, upper: Float64Array, lower: Float64Array, fy: number, fy2: number, scale: number,
  { from, to }: Columns, { col, chan }: Steps): void {
  const c2 = 2 * chan;
  if (fy2 < 0) {
    for (let ox = from, i = from * 3, o = base + from * col; ox < to; ox++, i += 3, o += col) {
      let t = upper[i]!;
      out[o] = (t + (lower[i]! - t) * fy) * scale;
      t = upper[i + 1]!;
      out[o + chan] = (t + (lower[i + 1]! - t) * fy) * scale;
      t = upper[i + 2]!;
      out[o + c2] = (t + (lower[i + 2]! - t) * fy) * scale;
    }
    return;
  }
  for (let ox = from, i = from * 3, o = base + from * col; ox < to; ox++, i += 3, o += col) {
    let t = upper[i]!;
    let d = lower[i]! - t;
    out[o] = (t + d * fy) * scale;
    out[o + row] = (t + d * fy2) * scale;
    t = upper[i + 1]!;
    d = lower[i + 1]! - t;
    out[o + chan] = (t + d * fy) * scale;
    out[o + row + chan] = (t + d * fy2) * scale;
    t = upper[i + 2]!;
    d = lower[i + 2]! - t;
    out[o + c2] = (t + d * fy) * scale;
    out[o + row + c2] = (t + d * fy2) * scale;
  }
}

/** A shrunk crop reads two fresh source rows per output row: both interpolated in place, RGB unrolled. */
function rowRgb(data: Uint8Array, out: Float32Array, top: number, bottom: number, fy: number, scale: number, { left, right, fxs, from, to }: Columns, base: number,
  { col, chan }: Steps): void {
  const c2 = 2 * chan;
  for (let ox = from, o = base + from * col; ox < to; ox++, o += col) {
    const l = left[ox]!;
    const r = right[ox]!;
    const fx = fxs[ox]!;
    const tl = top + l, tr = top + r, bl = bottom + l, br = bottom + r;
    let t = data[tl]! + (data[tr]! - data[tl]!) * fx;
    let b = data[bl]! + (data[br]! - data[bl]!) * fx;
    out[o] = (t + (b - t) * fy) * scale;
    t = data[tl + 1]! + (data[tr + 1]! - data[tl + 1]!) * fx;
    b = data[bl + 1]! + (data[br + 1]! - data[bl + 1]!) * fx;
    out[o + chan] = (t + (b - t) * fy) * scale;
    t = data[tl + 2]! + (data[tr + 2]! - data[tl + 2]!) * fx;
    b = data[bl + 2]! + (data[br + 2]! - data[bl + 2]!) * fx;
    out[o + c2] = (t + (b - t) * fy) * scale;
  }
}

function rowAny(data: Uint8Array, out: Float32Array, c: number, top: number, bottom: number, fy: number, scale: number, { left, right, fxs, from, to }: Columns, base: number): void {
  for (let ox = from, o = base + from * c; ox < to; ox++, o += c) {
    const l = left[ox]!;
    const r = right[ox]!;
    const fx = fxs[ox]!;
    for (let ch = 0; ch < c; ch++) {
      const tl = data[top + l + ch]!;
      const tr = data[top + r + ch]!;
      const bl = data[bottom + l + ch]!;
      const br = data[bottom + r + ch]!;
      const t = tl + (tr - tl) * fx;
      const b = bl + (br - bl) * fx;
      out[o + ch] = (t + (b - t) * fy) * scale;
    }
  }
}
