import sharp, { type Sharp } from 'sharp';
import { AppError } from '../errors/app-error.js';
import { BmpError, decodeBmp } from './bmp/index.js';
import type { ImageProbe } from './probe.js';

/**
 * Opens a probed image as a sharp pipeline. Limits were checked from the header already; sharp's own pixel
 * limit stays on as a second line, set just above what the header declared. EXIF orientation is applied here
 * so that every later step and every coordinate works in the upright picture.
 */
function inputLimit(probe: ImageProbe, frames: number): number {
  return probe.width * probe.height * frames + 1;
}

function openBmp(probe: ImageProbe): Sharp {
  try {
    const { data, width, height, channels } = decodeBmp(probe.bytes);
    return sharp(data, { raw: { width, height, channels } });
  } catch (err) {
    if (err instanceof BmpError) {
      throw new AppError('FailedOperation.ImageDecodeFailed', `The bmp image could not be decoded: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/**
 * The first frame (or page), upright. `forModels`: pixels only feed models, so an sRGB profile is not applied
 * (the result is the same, the decode twice as fast); the processing pipeline keeps it, and may embed it.
 */
export function openStill(probe: ImageProbe, opts: { forModels?: boolean } = {}): Sharp {
  if (probe.bmp) return openBmp(probe);
  return sharp(probe.bytes, {
    failOn: 'warning',
    limitInputPixels: inputLimit(probe, 1),
    autoOrient: true,
    ...(opts.forModels && probe.srgbProfile && { ignoreIcc: true }),
  });
}

/** All frames of an animation as one tall image ("toilet roll"); pageHeight tells the frames apart. */
export function openAnimation(probe: ImageProbe): Sharp {
  return sharp(probe.bytes, {
    failOn: 'warning',
    limitInputPixels: inputLimit(probe, probe.frames),
    animated: true,
  });
}

/** Width and height once EXIF orientation is applied (5-8 swap them). */
export function orientedSize(probe: ImageProbe): { width: number; height: number } {
  return probe.orientation >= 5
    ? { width: probe.height, height: probe.width }
    : { width: probe.width, height: probe.height };
}

/** One frame of an animation, composed onto the canvas as a player shows it; decodes only up to that frame. */
export function openFrame(probe: ImageProbe, index: number): Sharp {
  return sharp(probe.bytes, {
    failOn: 'warning',
    limitInputPixels: inputLimit(probe, 1),
    page: index,
    pages: 1,
  });
}
