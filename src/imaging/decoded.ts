import type { ImageProbe } from './probe.js';
import { fromSharpError } from './sharp-errors.js';
import { openFrame, openStill, orientedSize } from './source.js';
import type { Tensor, TensorSpec } from './to-tensor.js';

/**
 * An image decoded once for several models: upright (EXIF orientation applied), 8-bit sRGB, no alpha, and
 * shrunk so that its longer side is at most `maxSide` (every model input is far smaller than a photo). Each
 * model then resizes from these pixels rather than decoding the file again; `scaleX`/`scaleY` map coordinates
 * back to the original, oriented image.
 */
export interface DecodedImage {
  data: Buffer;
  width: number;
  height: number;
  /** The original image after EXIF orientation, in pixels: what coordinates are reported in. */
  originalWidth: number;
  originalHeight: number;
}

export interface DecodedFrame {
  /** 0-based frame index in the file. */
  index: number;
  image: DecodedImage;
}

function fitSize(width: number, height: number, maxSide: number): [number, number] {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

/**
 * The JPEG shrink-on-load factor: libjpeg decodes at 1/2, 1/4 or 1/8 in the DCT, cheaper than a full decode and
 * exact in size (ceil(side / factor)), so no resampling pass follows. The factor is the smallest that brings
 * the longer side within `maxSide`, raised while both sides keep at least twice `minSide` (the largest input
 * of the request's models: twice, so that their bilinear taps still fall on distinct pixels, as at full size;
 * 1x moved NanoDet's boxes on the kite fixture's small people). 1 for other formats, and 0 when even 1/8 is
 * larger than maxSide (the caller resizes).
 */
export function shrinkOnLoad(format: string, width: number, height: number, maxSide: number, minSide = 0): number {
  if (format !== 'jpeg') return Math.max(width, height) <= maxSide ? 1 : 0;
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  const needed = [1, 2, 4, 8].find((s) => Math.ceil(long / s) <= maxSide);
  if (needed === undefined) return 0;
  const allowed = minSide > 0 ? [8, 4, 2].find((s) => Math.ceil(short / s) >= 2 * minSide) ?? 1 : 1;
  return Math.max(needed, allowed);
}

/**
 * The first frame (or page), decoded once, upright, at most `maxSide` on its longer side, and for a JPEG at the
 * DCT scale shrinkOnLoad picks for the models' `minSide`.
 */
export async function decodeForModels(probe: ImageProbe, maxSide: number, minSide = 0): Promise<DecodedImage> {
  const { width: ow, height: oh } = orientedSize(probe);
  const s = shrinkOnLoad(probe.format, ow, oh, maxSide, minSide);
  // A resize to exactly the scaled decode's size leaves sharp nothing to do after its shrink-on-load.
  const [w, h] = s > 0 ? [Math.ceil(ow / s), Math.ceil(oh / s)] : fitSize(ow, oh, maxSide);
  try {
    let img = openStill(probe, { forModels: true }).flatten({ background: '#000000' });
    // fill: the target keeps the aspect ratio already; sharp picks shrink-on-load for JPEG and WebP.
    if (w !== ow || h !== oh) img = img.resize(w, h, { fit: 'fill' });
    const { data, info } = await img.toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, originalWidth: ow, originalHeight: oh };
  } catch (err) {
    throw fromSharpError(err, probe.format);
  }
}

/** `count` frame indices spread evenly over `frames`, first and last included. */
export function evenlySpacedFrames(frames: number, count: number): number[] {
  if (frames <= count) return Array.from({ length: frames }, (_, i) => i);
  if (count === 1) return [0];
  return [...new Set(Array.from({ length: count }, (_, i) => Math.round((i * (frames - 1)) / (count - 1))))];
}

/**
 * The chosen frames of an animated GIF or WebP, each decoded on its own (libvips composes sub-rectangle frames
 * onto the canvas), so memory stays one frame whatever the animation's length; shrunk like decodeForModels.
 */
export async function decodeFrames(probe: ImageProbe, indices: readonly number[], maxSide: number): Promise<DecodedFrame[]> {
  if (!probe.animated || probe.frames <= 1) return [{ index: 0, image: await decodeForModels(probe, maxSide) }];
  const [w, h] = fitSize(probe.width, probe.height, maxSide);
  try {
    return await Promise.all(indices.map(async (index) => {
      let img = openFrame(probe, index).flatten({ background: '#000000' });
      if (w !== probe.width || h !== probe.height) img = img.resize(w, h, { fit: 'fill' });
      const { data, info } = await img.toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      return { index, image: { data, width: info.width, height: info.height, originalWidth: probe.width, originalHeight: probe.height } };
    }));
  } catch (err) {
    throw fromSharpError(err, probe.format);
  }
}

/**
 * A model's input tensor from decoded pixels, in one pass: bilinear sampling without antialiasing (TF's
 * resizeBilinear with align_corners and half_pixel_centers off, which is how the reference library feeds these
 * models and how their authors trained them with cv2.resize), normalised to the model's range and layout.
 * On the fixtures it finds more of the listed objects than libvips' antialiased kernels (docs/models.md).
 * `alloc` provides the output array (a pooled one, say); every element is written.
 */
export function tensorFromDecoded(
  image: Pick<DecodedImage, 'data' | 'width' | 'height'>,
  spec: Pick<TensorSpec, 'size' | 'layout' | 'channels' | 'range'>,
  alloc: (length: number) => Float32Array = (n) => new Float32Array(n),
): Tensor {
  const [h, w] = spec.size ?? [image.height, image.width];
  const c = spec.channels;
  const [min, max] = spec.range;
  const k = (max - min) / 255;
  const src = image.data;
  const sw = image.width;
  const sh = image.height;
  const plane = w * h;
  const out = alloc(plane * c);
  // Column sample positions once; rows in the loop. Source x = dst x * (sw / w), as TF's legacy bilinear.
  const x0s = new Int32Array(w);
  const x1s = new Int32Array(w);
  const dxs = new Float32Array(w);
  for (let x = 0; x < w; x++) {
    const fx = (x * sw) / w;
    const x0 = Math.floor(fx);
    x0s[x] = x0 * 3;
    x1s[x] = Math.min(sw - 1, x0 + 1) * 3;
    dxs[x] = fx - x0;
  }
  const nhwc = spec.layout === 'nhwc';
  // Channels unrolled, no scratch array (a third faster); each sample is rounded to float32 as TF stores it.
  for (let y = 0; y < h; y++) {
    const fy = (y * sh) / h;
    const y0 = Math.floor(fy);
    const row0 = y0 * sw * 3;
    const row1 = Math.min(sh - 1, y0 + 1) * sw * 3;
    const dy = fy - y0;
    const rowStart = y * w;
    for (let x = 0; x < w; x++) {
      const a = row0 + x0s[x]!;
      const b = row0 + x1s[x]!;
      const cc = row1 + x0s[x]!;
      const d = row1 + x1s[x]!;
      const dx = dxs[x]!;
      let top = src[a]! + (src[b]! - src[a]!) * dx;
      let bottom = src[cc]! + (src[d]! - src[cc]!) * dx;
      const r = Math.fround(top + (bottom - top) * dy);
      top = src[a + 1]! + (src[b + 1]! - src[a + 1]!) * dx;
      bottom = src[cc + 1]! + (src[d + 1]! - src[cc + 1]!) * dx;
      const g = Math.fround(top + (bottom - top) * dy);
      top = src[a + 2]! + (src[b + 2]! - src[a + 2]!) * dx;
      bottom = src[cc + 2]! + (src[d + 2]! - src[cc + 2]!) * dx;
      const bl = Math.fround(top + (bottom - top) * dy);
      const p = rowStart + x;
      if (c === 1) {
        // Rec. 601 luma, as libvips' b-w
        out[p] = (0.299 * r + 0.587 * g + 0.114 * bl) * k + min;
      } else if (nhwc) {
        out[p * 3] = r * k + min;
        out[p * 3 + 1] = g * k + min;
        out[p * 3 + 2] = bl * k + min;
      } else {
        out[p] = r * k + min;
        out[plane + p] = g * k + min;
        out[2 * plane + p] = bl * k + min;
      }
    }
  }
  const dims = nhwc ? [1, h, w, c] : [1, c, h, w];
  return { data: out, dims, content: { x: 0, y: 0, width: w, height: h, scale: w / sw } };
}
