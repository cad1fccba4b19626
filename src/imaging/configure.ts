import sharp from 'sharp';

export interface ImagingTuning {
  /** libvips threads per image; 0 keeps sharp's default (1 on this glibc build, see bench/processing). */
  threadsPerImage: number;
}

/**
 * Process-wide libvips settings. The operation cache is off: every request brings a different image, so the
 * cache would only hold memory (imgproxy does the same).
 */
export function configureImaging(t: ImagingTuning): { threadsPerImage: number; libvips: string } {
  if (t.threadsPerImage > 0) sharp.concurrency(t.threadsPerImage);
  sharp.cache(false);
  return { threadsPerImage: sharp.concurrency(), libvips: sharp.versions.vips ?? 'unknown' };
}

export function imagingVersions(): Record<string, string | undefined> {
  return { sharp: sharp.versions.sharp, libvips: sharp.versions.vips };
}
