/**
 * The pixel maths of tiled super-resolution, as pure functions over typed arrays (HWC, 3 channels).
 *
 * A model sees one fixed-size input tile at a time (same shape every run, so onnxruntime reuses its buffers and
 * memory stays flat however large the image). Neighbouring tiles overlap; in the overlap each output pixel is a
 * weighted mean of the tiles covering it, with weights that ramp linearly from ~0 at a tile's inner edge (where
 * the convolutions saw zero padding instead of real neighbours) to 1 one overlap inside it. The weights of the
 * tiles covering a pixel always sum to a positive number, and dividing by that sum makes the blend exact where a
 * single tile covers.
 */

export interface TileRect {
  /** Position in the tile order: row-major, the unit of progress and of resume. */
  index: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Start offsets of tiles along one axis: every `size - overlap` pixels, the last one moved inward so that it
 * ends at the border. Every tile is `tile` long unless the axis itself is shorter.
 */
export function axisStarts(size: number, tile: number, overlap: number): number[] {
  if (size <= tile) return [0];
  const stride = tile - overlap;
  if (stride <= 0) throw new RangeError(`overlap ${overlap} must be smaller than tile ${tile}`);
  const starts: number[] = [];
  for (let s = 0; s + tile < size; s += stride) starts.push(s);
  starts.push(size - tile);
  return starts;
}

/** The tiles covering a width x height image, row-major. */
export function planTiles(width: number, height: number, tile: number, overlap: number): TileRect[] {
  const xs = axisStarts(width, tile, overlap);
  const ys = axisStarts(height, tile, overlap);
  const tw = Math.min(tile, width);
  const th = Math.min(tile, height);
  const tiles: TileRect[] = [];
  for (const y of ys) for (const x of xs) tiles.push({ index: tiles.length, x, y, width: tw, height: th });
  return tiles;
}

/**
 * Blend weights along one side of a tile, `length` output pixels long. An edge that lies on the image border
 * keeps weight 1 (no other tile covers it); an inner edge ramps linearly over `ramp` pixels. The +0.5 keeps the
 * weight positive at the very edge, so a pixel is never left with a zero weight sum.
 */
export function rampWeights(length: number, ramp: number, featherStart: boolean, featherEnd: boolean): Float32Array {
  const w = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    let v = 1;
    if (ramp > 0 && featherStart) v = Math.min(v, (i + 0.5) / ramp);
    if (ramp > 0 && featherEnd) v = Math.min(v, (length - i - 0.5) / ramp);
    w[i] = v;
  }
  return w;
}

/**
 * Copies one tile out of an HWC RGB image as model input: value * k + offset per channel (the model's input
 * range). `width` is the image width.
 */
export function extractTile(rgb: Uint8Array, width: number, rect: TileRect, k: number, offset: number): Float32Array {
  const out = new Float32Array(rect.width * rect.height * 3);
  let o = 0;
  for (let y = 0; y < rect.height; y++) {
    let i = ((rect.y + y) * width + rect.x) * 3;
    for (let n = 0; n < rect.width * 3; n++) out[o++] = rgb[i++]! * k + offset;
  }
  return out;
}

/** Model output (range [min, max]) to 8-bit pixels, rounded and clamped: what is stored and blended. */
export function toBytes(data: Float32Array, range: [number, number]): Uint8Array {
  const [min, max] = range;
  const k = 255 / (max - min);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round((data[i]! - min) * k);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/** The running weighted sums of one output image. */
export interface Accumulator {
  width: number;
  height: number;
  sum: Float32Array;
  weight: Float32Array;
}

export function createAccumulator(width: number, height: number): Accumulator {
  return { width, height, sum: new Float32Array(width * height * 3), weight: new Float32Array(width * height) };
}

/**
 * Adds one upscaled tile (HWC RGB bytes, already `scale` times its input rect) into the accumulator with the
 * feathered weights: inner edges (those not on the image border) ramp over `ramp` output pixels.
 */
export function accumulateTile(acc: Accumulator, tile: Uint8Array, rect: TileRect, scale: number, ramp: number, image: { width: number; height: number }): void {
  const ox = rect.x * scale;
  const oy = rect.y * scale;
  const tw = rect.width * scale;
  const th = rect.height * scale;
  const wx = rampWeights(tw, ramp, rect.x > 0, rect.x + rect.width < image.width);
  const wy = rampWeights(th, ramp, rect.y > 0, rect.y + rect.height < image.height);
  for (let y = 0; y < th; y++) {
    const row = (oy + y) * acc.width + ox;
    const wyv = wy[y]!;
    for (let x = 0; x < tw; x++) {
      const w = wx[x]! * wyv;
      const p = row + x;
      const t = (y * tw + x) * 3;
      acc.weight[p]! += w;
      acc.sum[p * 3]! += tile[t]! * w;
      acc.sum[p * 3 + 1]! += tile[t + 1]! * w;
      acc.sum[p * 3 + 2]! += tile[t + 2]! * w;
    }
  }
}

/** The blended image as 8-bit HWC RGB. */
export function resolveAccumulator(acc: Accumulator): Uint8Array {
  const out = new Uint8Array(acc.sum.length);
  for (let p = 0; p < acc.weight.length; p++) {
    const w = acc.weight[p]!;
    for (let c = 0; c < 3; c++) {
      const v = w > 0 ? Math.round(acc.sum[p * 3 + c]! / w) : 0;
      out[p * 3 + c] = v > 255 ? 255 : v;
    }
  }
  return out;
}
