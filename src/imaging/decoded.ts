import sharp from 'sharp';
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

/** The first frame (or page), decoded once, upright, at most `maxSide` on its longer side. */
export async function decodeForModels(probe: ImageProbe, maxSide: number): Promise<DecodedImage> {
  const { width: ow, height: oh } = orientedSize(probe);
  const [w, h] = fitSize(ow, oh, maxSide);
  try {
    let img = openStill(probe).flatten({ background: '#000000' });
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
 */
export function tensorFromDecoded(image: DecodedImage, spec: Pick<TensorSpec, 'size' | 'layout' | 'channels' | 'range'>): Tensor {
  const [h, w] = spec.size ?? [image.height, image.width];
  const c = spec.channels;
  const [min, max] = spec.range;
  const k = (max - min) / 255;
  const src = image.data;
  const sw = image.width;
  const sh = image.height;
  const plane = w * h;
  const out = new Float32Array(plane * c);
  const sx = sw / w;
  const sy = sh / h;
  const nhwc = spec.layout === 'nhwc';
  for (let y = 0; y < h; y++) {
    const fy = y * sy;
    const y0 = Math.floor(fy);
    const y1 = Math.min(sh - 1, y0 + 1);
    const dy = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = x * sx;
      const x0 = Math.floor(fx);
      const x1 = Math.min(sw - 1, x0 + 1);
      const dx = fx - x0;
      const a = (y0 * sw + x0) * 3;
      const b = (y0 * sw + x1) * 3;
      const cc = (y1 * sw + x0) * 3;
      const d = (y1 * sw + x1) * 3;
      const p = y * w + x;
      const sample = (ch: number) => {
        const top = src[a + ch]! + (src[b + ch]! - src[a + ch]!) * dx;
        const bottom = src[cc + ch]! + (src[d + ch]! - src[cc + ch]!) * dx;
        return top + (bottom - top) * dy;
      };
      if (c === 1) {
        // Rec. 601 luma, as libvips' b-w
        const v = 0.299 * sample(0) + 0.587 * sample(1) + 0.114 * sample(2);
        out[p] = v * k + min;
      } else if (nhwc) {
        out[p * 3] = sample(0) * k + min;
        out[p * 3 + 1] = sample(1) * k + min;
        out[p * 3 + 2] = sample(2) * k + min;
      } else {
        out[p] = sample(0) * k + min;
        out[plane + p] = sample(1) * k + min;
        out[2 * plane + p] = sample(2) * k + min;
      }
    }
  }
  const dims = nhwc ? [1, h, w, c] : [1, c, h, w];
  return { data: out, dims, content: { x: 0, y: 0, width: w, height: h, scale: w / sw } };
}
