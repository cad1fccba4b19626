import type { OperationName } from '../operations.js';
import { blur, sharpen } from './filters.js';
import { crop } from './crop.js';
import { flip, flop } from './flip.js';
import { resize } from './resize.js';
import { rotate } from './rotate.js';
import type { Step } from './step.js';
import { stripMetadata } from './strip-metadata.js';
import { gamma, grayscale, modulate, normalize } from './tone.js';
import { watermark } from './watermark.js';

/** Every operation a request may name, by name. The schemas in ../operations.ts list the same names. */
export const steps: { [N in OperationName]: Step<N> } = {
  resize, crop, rotate, flip, flop, blur, sharpen, grayscale, normalize, gamma, modulate, watermark,
  'strip-metadata': stripMetadata,
};
