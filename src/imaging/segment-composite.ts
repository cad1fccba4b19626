import sharp, { type Sharp } from 'sharp';
import type { ImageProbe } from './probe.js';
import type { RgbImage } from './rgb.js';
import { featheredAlpha } from './mask-resample.js';
import { fromSharpError } from './sharp-errors.js';
import { openStill } from './source.js';

/**
 * What segmentation returns, made from the decoded image and the model's small mask: the mask is brought to
 * the image's size and feathered (a Gaussian blur of its edge, mask-resample.ts), then used as alpha, as the
 * mask itself, or to blend the person over a blurred copy, a colour or another image.
 */
export type SegmentMode = 'cutout' | 'mask' | 'blur' | 'replace';
export type SegmentFormat = 'png' | 'jpeg' | 'webp';

export interface CompositeSpec {
  mode: SegmentMode;
  format: SegmentFormat;
  /** Feather radius (Gaussian sigma) in output pixels; 0 keeps the upscaled edge. */
  feather: number;
  /** Background blur sigma for mode blur. */
  blur: number;
  /** mode replace: a colour, or an image scaled to cover the frame. */
  background?: { r: number; g: number; b: number } | { image: ImageProbe };
}

export interface Composite { data: Buffer; format: SegmentFormat; width: number; height: number; channels: number }

/**
 * The 8-bit alpha at the image's size. Usually in JS (featheredAlpha: a couple of milliseconds, no libvips
 * round trip). An image smaller than the mask keeps sharp's antialiased shrink then blur: blurring at the
 * mask's resolution would scale the sigma up with the shrink (feather 50 on a 12x10 image: 0.7 s of taps),
 * and such images cost little in sharp.
 */
export async function alphaFromMask(mask: { data: Uint8Array; width: number; height: number }, width: number, height: number, feather: number): Promise<Buffer> {
  if (width >= mask.width && height >= mask.height) {
    const alpha = featheredAlpha(mask, width, height, feather);
    return Buffer.from(alpha.buffer, alpha.byteOffset, alpha.length);
  }
  let img = sharp(Buffer.from(mask.data), { raw: { width: mask.width, height: mask.height, channels: 1 } }).resize(width, height, { fit: 'fill', kernel: 'cubic' });
  if (feather >= 0.3) img = img.blur(feather);
  return img.extractChannel(0).raw().toBuffer();
}

async function background(img: RgbImage, spec: CompositeSpec): Promise<Buffer> {
  const { width, height } = img;
  const raw = { raw: { width, height, channels: 3 as const } };
  if (spec.mode === 'blur') return sharp(img.data, raw).blur(spec.blur).raw().toBuffer();
  const bg = spec.background;
  if (bg && 'image' in bg) {
    return openStill(bg.image).flatten({ background: '#000000' }).resize(width, height, { fit: 'cover' }).toColourspace('srgb').removeAlpha().raw().toBuffer();
  }
  const colour = bg ?? { r: 255, g: 255, b: 255 };
  const out = Buffer.alloc(width * height * 3);
  for (let i = 0; i < out.length; i += 3) {
    out[i] = colour.r;
    out[i + 1] = colour.g;
    out[i + 2] = colour.b;
  }
  return out;
}

/**
 * PNG at zlib level 2: a full-size cutout is most of a segment request's CPU, and level 2 took 26-37% less time
 * than the default 6 for 4-9% more bytes (500x282 to 768x576 portraits; level 1 saved more time but added 30%).
 */
function encode(img: Sharp, format: SegmentFormat): Sharp {
  return format === 'png' ? img.png({ compressionLevel: 2 }) : format === 'webp' ? img.webp() : img.jpeg({ quality: 90 });
}

/**
 * The colour of fully transparent pixels set to black, in place: a cutout must not carry the background it
 * removed (a viewer that ignores alpha, or anyone reading the file, would see it), and runs of zeros compress:
 * the PNG is a third smaller and its encode 20% cheaper (the bench's portraits).
 */
export function clearBackground(rgb: Buffer, alpha: Uint8Array): Buffer {
  for (let p = 0, i = 0; p < alpha.length; p++, i += 3) {
    if (alpha[p] === 0) {
      rgb[i] = 0;
      rgb[i + 1] = 0;
      rgb[i + 2] = 0;
    }
  }
  return rgb;
}

export async function composite(img: RgbImage, alpha: Buffer, spec: CompositeSpec): Promise<Composite> {
  const { width, height } = img;
  try {
    if (spec.mode === 'mask') {
      const data = await encode(sharp(alpha, { raw: { width, height, channels: 1 } }).toColourspace('b-w'), spec.format).toBuffer();
      return { data, format: spec.format, width, height, channels: 1 };
    }
    if (spec.mode === 'cutout') {
      const data = await encode(sharp(clearBackground(img.data, alpha), { raw: { width, height, channels: 3 } }).joinChannel(alpha, { raw: { width, height, channels: 1 } }), spec.format).toBuffer();
      return { data, format: spec.format, width, height, channels: 4 };
    }
    const bg = await background(img, spec);
    const out = Buffer.alloc(width * height * 3);
    for (let p = 0, i = 0; p < alpha.length; p++, i += 3) {
      const a = alpha[p]! / 255;
      for (let c = 0; c < 3; c++) out[i + c] = Math.round(img.data[i + c]! * a + bg[i + c]! * (1 - a));
    }
    const data = await encode(sharp(out, { raw: { width, height, channels: 3 } }), spec.format).toBuffer();
    return { data, format: spec.format, width, height, channels: 3 };
  } catch (err) {
    throw fromSharpError(err, 'png');
  }
}
