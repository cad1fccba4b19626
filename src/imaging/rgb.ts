import sharp from 'sharp';
import { decodeForModels, type DecodedImage } from './decoded.js';
import type { ImageProbe } from './probe.js';

/**
 * The upright first frame as packed 8-bit RGB, decoded once and shared by every model of a request (detector
 * tiles, face crops, segmentation). Images larger than `maxSide` are shrunk on decode: models see at most a
 * few hundred pixels of a face, and a 100-megapixel buffer per request would serve nobody. `scale` maps a
 * pixel of this buffer back to the upright original (original = working * scale).
 */
export interface RgbImage {
  data: Buffer;
  width: number;
  height: number;
  scale: number;
  /** Upright size of the original image. */
  original: { width: number; height: number };
}

/** The decoded pixels the vision features share, seen as an RgbImage (no copy). */
export function rgbFromDecoded(d: DecodedImage): RgbImage {
  return { data: d.data, width: d.width, height: d.height, scale: d.originalWidth / d.width, original: { width: d.originalWidth, height: d.originalHeight } };
}

/** The first frame, upright, sRGB, fitted within maxSide: one decode for every model of a request. */
export async function decodeRgb(probe: ImageProbe, maxSide: number): Promise<RgbImage> {
  return rgbFromDecoded(await decodeForModels(probe, maxSide));
}

export interface Square { x: number; y: number; size: number }

/**
 * A square region of the image, resized to `out` x `out` with sharp (antialiased, unlike a plain bilinear
 * sample, which matters when a large photo shrinks to a 256-pixel detector input). Parts of the square outside
 * the image are black, so the whole image can be letterboxed into one square. The black border is written while
 * converting to floats rather than by sharp's extend, which cost more than the resize itself (1.2 ms a pass).
 * `alloc` provides the output array (a pooled one, say); every element is written.
 */
export async function squareTensor(img: RgbImage, sq: Square, out: number, range: [number, number], layout: 'nhwc' | 'nchw' = 'nhwc', alloc?: (length: number) => Float32Array): Promise<Float32Array> {
  const left = Math.max(0, Math.round(sq.x));
  const top = Math.max(0, Math.round(sq.y));
  const right = Math.min(img.width, Math.round(sq.x + sq.size));
  const bottom = Math.min(img.height, Math.round(sq.y + sq.size));
  const k = out / sq.size;
  const w = Math.min(out, Math.max(1, Math.round((right - left) * k)));
  const h = Math.min(out, Math.max(1, Math.round((bottom - top) * k)));
  const padLeft = Math.max(0, Math.min(out - w, Math.round((left - sq.x) * k)));
  const padTop = Math.max(0, Math.min(out - h, Math.round((top - sq.y) * k)));
  let pipeline = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  if (left > 0 || top > 0 || right < img.width || bottom < img.height) pipeline = pipeline.extract({ left, top, width: right - left, height: bottom - top });
  const raw = await pipeline.resize(w, h, { fit: 'fill' }).raw().toBuffer();
  const [min, max] = range;
  const scale = (max - min) / 255;
  const tensor = alloc ? alloc(out * out * 3) : new Float32Array(out * out * 3);
  if (w < out || h < out) tensor.fill(min);
  if (layout === 'nchw') {
    const plane = out * out;
    for (let y = 0; y < h; y++) {
      let from = y * w * 3;
      const to = (y + padTop) * out + padLeft;
      for (let x = 0; x < w; x++, from += 3) {
        tensor[to + x] = raw[from]! * scale + min;
        tensor[plane + to + x] = raw[from + 1]! * scale + min;
        tensor[2 * plane + to + x] = raw[from + 2]! * scale + min;
      }
    }
    return tensor;
  }
  for (let y = 0; y < h; y++) {
    const from = y * w * 3;
    const to = ((y + padTop) * out + padLeft) * 3;
    for (let i = 0; i < w * 3; i++) tensor[to + i] = raw[from + i]! * scale + min;
  }
  return tensor;
}
