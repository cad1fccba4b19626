import { cropAndResize, type PixelBox } from './crop-resize.js';
import type { RgbImage } from './rgb.js';

/**
 * The inputs of the face models, cut from the decoded image around one face crop box, in the layout and range
 * each model was trained with (read from @vladmandic/human's preprocessing, which these weights come from):
 *  - facemesh 192, antispoof 128, liveness 32: RGB 0..1;
 *  - faceres 224: RGB 0..255;
 *  - emotion 64: grey (0.2989 R + 0.587 G + 0.114 B) mapped to -1..1.
 * Each is sampled straight from the decoded image at its own size (one resampling, not two).
 */
export type FaceModelInput = 'facemesh' | 'faceres' | 'emotion' | 'antispoof' | 'liveness' | 'quality';

const sizes: Record<FaceModelInput, number> = { facemesh: 192, faceres: 224, emotion: 64, antispoof: 128, liveness: 32, quality: 96 };

/** Where the inputs' arrays come from and go back to (a pool: a face's crops are megabytes of floats). */
export interface FloatArrays {
  take(length: number): Float32Array;
  give(array: Float32Array): void;
}

/**
 * `arrays`: the output is taken from it (the caller gives it back once the model has run). `layout`: the
 * model's input layout (registry); the grey inputs have one channel, where both are the same.
 */
export function faceInput(img: RgbImage, box: PixelBox, kind: FaceModelInput, arrays?: FloatArrays, layout: 'nhwc' | 'nchw' = 'nhwc'): { data: Float32Array; dims: number[] } {
  const side = sizes[kind];
  const grey = kind === 'emotion' || kind === 'quality';
  const planar = layout === 'nchw' && !grey;
  const alloc = arrays && ((n: number) => arrays.take(n));
  const rgb = cropAndResize({ data: img.data, width: img.width, height: img.height, channels: 3 }, box, side, side, grey || kind === 'faceres' ? 1 : 1 / 255, alloc, planar ? 'chw' : 'hwc');
  if (grey) {
    const out = alloc ? alloc(side * side) : new Float32Array(side * side);
    for (let i = 0, p = 0; p < out.length; p++, i += 3) {
      const g = rgb[i]! * 0.2989 + rgb[i + 1]! * 0.587 + rgb[i + 2]! * 0.114;
      out[p] = kind === 'emotion' ? (g / 255 - 0.5) * 2 : g;
    }
    arrays?.give(rgb);
    return { data: out, dims: layout === 'nchw' ? [1, 1, side, side] : [1, side, side, 1] };
  }
  return { data: rgb, dims: planar ? [1, 3, side, side] : [1, side, side, 3] };
}
