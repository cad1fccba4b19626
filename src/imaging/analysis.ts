import { fromSharpError } from './sharp-errors.js';
import type { ImageProbe } from './probe.js';
import { openStill } from './source.js';

export interface AnalysisImage {
  /** Interleaved RGB, 8 bits per channel, sRGB, upright (EXIF orientation applied). */
  data: Buffer;
  width: number;
  height: number;
}

/**
 * What every model sees: the first frame, upright, 8-bit sRGB RGB. CMYK, 16-bit, palette and grey inputs
 * are converted; transparent areas are flattened onto `background` because models take no alpha.
 */
export async function decodeForAnalysis(probe: ImageProbe, opts: { background?: string } = {}): Promise<AnalysisImage> {
  try {
    const { data, info } = await openStill(probe)
      .flatten({ background: opts.background ?? '#ffffff' })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after sRGB conversion, got ${info.channels}`);
    return { data, width: info.width, height: info.height };
  } catch (err) {
    throw fromSharpError(err, probe.format);
  }
}
