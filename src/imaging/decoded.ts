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
 * A model's input tensor from decoded pixels: resize (stretch, as the reference library feeds these models),
 * then one pass from bytes to floats in the model's layout and range.
 */
export async function tensorFromDecoded(image: DecodedImage, spec: Pick<TensorSpec, 'size' | 'layout' | 'channels' | 'range'>): Promise<Tensor> {
  const [h, w] = spec.size ?? [image.height, image.width];
  let img = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
  if (w !== image.width || h !== image.height) img = img.resize(w, h, { fit: 'fill' });
  if (spec.channels === 1) img = img.toColourspace('b-w');
  const data = await img.raw().toBuffer();
  const c = spec.channels;
  const [min, max] = spec.range;
  const k = (max - min) / 255;
  const plane = w * h;
  const out = new Float32Array(plane * c);
  if (spec.layout === 'nhwc') {
    for (let i = 0; i < out.length; i++) out[i] = data[i]! * k + min;
  } else {
    for (let p = 0; p < plane; p++) for (let ch = 0; ch < c; ch++) out[ch * plane + p] = data[p * c + ch]! * k + min;
  }
  const dims = spec.layout === 'nhwc' ? [1, h, w, c] : [1, c, h, w];
  return { data: out, dims, content: { x: 0, y: 0, width: w, height: h, scale: w / image.width } };
}
