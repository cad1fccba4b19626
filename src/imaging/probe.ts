import sharp, { type Metadata } from 'sharp';
import { AppError } from '../errors/app-error.js';
import type { Limits } from '../config/limits.js';
import { BmpError, readBmpHeader } from './bmp/index.js';
import { isSrgbProfile } from './icc.js';
import { fromSharpError } from './sharp-errors.js';
import { sniffFormat, type DecodableFormat } from './sniff.js';

/** What the header says, read before any pixel is decoded. Everything later works from this descriptor. */
export interface ImageProbe {
  bytes: Buffer;
  format: DecodableFormat;
  width: number;
  height: number;
  /** Frames of an animation or pages of a multi-page file. */
  frames: number;
  /** Whether the frames form an animation we keep (GIF, WebP); TIFF/AVIF pages are not. */
  animated: boolean;
  orientation: number;
  channels: number;
  hasAlpha: boolean;
  space: string;
  depth: string;
  bitsPerSample: number | undefined;
  isPalette: boolean;
  isProgressive: boolean;
  loop: number | undefined;
  delay: number[] | undefined;
  hasProfile: boolean;
  /** The embedded profile is sRGB: a decode for the models may skip colour management (icc.ts). */
  srgbProfile?: boolean;
  exif: Buffer | undefined;
  bmp: boolean;
}

const supportedList = 'JPEG, PNG, GIF, WebP, TIFF, BMP or AVIF';

function checkLimits(p: Omit<ImageProbe, 'bytes'>, limits: Limits): void {
  const { width, height, frames } = p;
  if (width < limits.minDimension || height < limits.minDimension) {
    throw new AppError(
      'FailedOperation.ImageResolutionTooSmall',
      `Expected width and height of at least ${limits.minDimension} for image but received ${width}x${height}`,
    );
  }
  if (width > limits.maxWidth || height > limits.maxHeight) {
    throw new AppError(
      'FailedOperation.ImageResolutionExceed',
      `Expected width at most ${limits.maxWidth} and height at most ${limits.maxHeight} for image but received ${width}x${height}`,
    );
  }
  if (frames > limits.maxFrames) {
    throw new AppError(
      'FailedOperation.ImageFramesExceed',
      `Expected at most ${limits.maxFrames} frames for image but received ${frames}`,
    );
  }
  const decodedFrames = p.animated ? frames : 1;
  const pixels = width * height * decodedFrames;
  if (pixels > limits.maxPixels) {
    const what = decodedFrames > 1 ? `${width}x${height}x${decodedFrames} frames` : `${width}x${height}`;
    throw new AppError(
      'FailedOperation.ImageResolutionExceed',
      `Expected at most ${limits.maxPixels} pixels for image but received ${pixels} (${what})`,
    );
  }
}

function probeBmp(bytes: Buffer): Omit<ImageProbe, 'bytes'> {
  try {
    const h = readBmpHeader(bytes);
    return {
      format: 'bmp', width: h.width, height: h.height, frames: 1, animated: false,
      orientation: 1, channels: h.hasAlpha ? 4 : 3, hasAlpha: h.hasAlpha, space: 'srgb', depth: 'uchar',
      bitsPerSample: h.bitCount, isPalette: h.bitCount <= 8, isProgressive: false, loop: undefined,
      delay: undefined, hasProfile: false, exif: undefined, bmp: true,
    };
  } catch (err) {
    if (err instanceof BmpError) {
      throw new AppError('FailedOperation.ImageDecodeFailed', `The bmp image could not be decoded: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

async function probeWithSharp(bytes: Buffer, format: DecodableFormat): Promise<Omit<ImageProbe, 'bytes'>> {
  let m: Metadata;
  try {
    // Header only: libvips reads no pixels for metadata(). Our own limits are applied below, so sharp's
    // pixel limit is lifted here to learn the declared size and name it in the error.
    m = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw fromSharpError(err, format);
  }
  if (m.compression === 'hevc') {
    throw new AppError('FailedOperation.ImageNotSupported', `Expected ${supportedList} for image but received HEIC (HEVC), which this server cannot decode`);
  }
  const frames = Math.max(1, m.pages ?? 1);
  const animated = (format === 'gif' || format === 'webp') && frames > 1;
  return {
    format,
    width: m.width,
    height: m.height,
    frames,
    animated,
    orientation: m.orientation && m.orientation >= 1 && m.orientation <= 8 ? m.orientation : 1,
    channels: m.channels,
    hasAlpha: m.hasAlpha,
    space: m.space,
    depth: m.depth,
    bitsPerSample: m.bitsPerSample,
    isPalette: m.isPalette,
    isProgressive: m.isProgressive,
    loop: m.loop,
    delay: m.delay,
    hasProfile: m.hasProfile,
    srgbProfile: m.hasProfile === true && isSrgbProfile(m.icc),
    exif: m.exif,
    bmp: false,
  };
}

/**
 * The input gate's header step: bytes limit, magic-byte sniffing, then width/height/pixels/frames from the
 * header. Nothing here decodes pixels, so a 4 KB file that declares 65535x65535 costs a few microseconds.
 */
export async function probeImage(bytes: Buffer, limits: Limits): Promise<ImageProbe> {
  if (bytes.length === 0) {
    throw new AppError('FailedOperation.EmptyImageError', 'Expected a non-empty image for image but received 0 bytes');
  }
  if (bytes.length > limits.maxImageBytes) {
    throw new AppError(
      'FailedOperation.ImageSizeExceed',
      `Expected at most ${limits.maxImageBytes} bytes for image but received ${bytes.length}`,
    );
  }
  const sniffed = sniffFormat(bytes);
  if (sniffed === undefined) {
    throw new AppError('FailedOperation.ImageDecodeFailed', `Expected ${supportedList} for image but received bytes that are not a known image format`);
  }
  if (sniffed === 'heif' || sniffed === 'jp2' || sniffed === 'svg' || sniffed === 'pdf' || sniffed === 'ico' || sniffed === 'psd' || sniffed === 'jxl') {
    const name = sniffed === 'heif' ? 'HEIC (HEVC)' : sniffed.toUpperCase();
    throw new AppError('FailedOperation.ImageNotSupported', `Expected ${supportedList} for image but received ${name}`);
  }
  const header = sniffed === 'bmp' ? probeBmp(bytes) : await probeWithSharp(bytes, sniffed);
  checkLimits(header, limits);
  return { bytes, ...header };
}
