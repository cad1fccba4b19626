import sharp from 'sharp';
import { applyEncoder, contentTypes, resolveOutput } from './encode.js';
import type { OutputFormat, OutputSpec } from './operations.js';
import type { ImageProbe } from './probe.js';
import { fromSharpError } from './sharp-errors.js';
import { openStill, orientedSize } from './source.js';

/**
 * The sharp side of super-resolution: the upright first frame as 8-bit sRGB pixels with alpha split off, the
 * alpha plane enlarged on its own (a model trained on RGB photos has nothing to say about transparency), and the
 * upscaled pixels encoded with the same output options as /v1/images/process.
 */
export interface RgbImage {
  width: number;
  height: number;
  /** HWC, 3 channels. */
  rgb: Uint8Array;
  /** One byte per pixel, when the image has transparency. */
  alpha?: Uint8Array;
}

/** Width and height after EXIF orientation, from the header only. */
export function uprightSize(probe: ImageProbe): { width: number; height: number } {
  return orientedSize(probe);
}

export async function decodeRgb(probe: ImageProbe): Promise<RgbImage> {
  try {
    const { data, info } = await openStill(probe).toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const { width, height, channels } = info;
    const plane = width * height;
    if (channels === 3) return { width, height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.length) };
    const rgb = new Uint8Array(plane * 3);
    const alpha = channels === 4 || channels === 2 ? new Uint8Array(plane) : undefined;
    for (let p = 0; p < plane; p++) {
      const i = p * channels;
      if (channels >= 3) {
        rgb[p * 3] = data[i]!;
        rgb[p * 3 + 1] = data[i + 1]!;
        rgb[p * 3 + 2] = data[i + 2]!;
      } else {
        rgb[p * 3] = rgb[p * 3 + 1] = rgb[p * 3 + 2] = data[i]!;
      }
      if (alpha) alpha[p] = data[i + channels - 1]!;
    }
    return alpha ? { width, height, rgb, alpha } : { width, height, rgb };
  } catch (err) {
    throw fromSharpError(err, probe.format);
  }
}

/** Plain resize of the alpha plane (Lanczos, like any enlargement) to the output size. */
export async function resizeAlpha(alpha: Uint8Array, from: { width: number; height: number }, to: { width: number; height: number }): Promise<Uint8Array> {
  const data = await sharp(alpha, { raw: { width: from.width, height: from.height, channels: 1 } })
    .resize(to.width, to.height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** Checks the output options against the input format before any pixel work (the same rules as process). */
export function checkOutput(probe: ImageProbe, spec: OutputSpec): OutputFormat {
  return resolveOutput(probe.format, spec).format;
}

export interface EncodedImage { data: Buffer; format: OutputFormat; contentType: string; width: number; height: number }

/** Joins RGB and (enlarged) alpha and encodes with the request's output options. */
export async function encodeUpscaled(probe: ImageProbe, spec: OutputSpec, rgb: Uint8Array, alpha: Uint8Array | undefined, width: number, height: number): Promise<EncodedImage> {
  const out = resolveOutput(probe.format, spec);
  let pixels: Uint8Array = rgb;
  let channels: 3 | 4 = 3;
  if (alpha) {
    channels = 4;
    pixels = new Uint8Array(width * height * 4);
    for (let p = 0; p < width * height; p++) {
      pixels[p * 4] = rgb[p * 3]!;
      pixels[p * 4 + 1] = rgb[p * 3 + 1]!;
      pixels[p * 4 + 2] = rgb[p * 3 + 2]!;
      pixels[p * 4 + 3] = alpha[p]!;
    }
  }
  try {
    const img = sharp(pixels, { raw: { width, height, channels }, limitInputPixels: false });
    const data = await applyEncoder(img, out).toBuffer();
    return { data, format: out.format, contentType: contentTypes[out.format], width, height };
  } catch (err) {
    throw fromSharpError(err, out.format);
  }
}
