import { invalidValue } from '../../errors/app-error.js';
import { defineStep } from './step.js';

/** sharp's names for the smart positions differ from ours only in spelling. */
const positions: Record<string, string | number> = {
  attention: 17, // sharp.strategy.attention
  entropy: 16, // sharp.strategy.entropy
  center: 'centre',
};

export const resize = defineStep({
  name: 'resize',
  apply(img, op, ctx) {
    if (op.width === undefined && op.height === undefined) {
      throw invalidValue(`${ctx.where}.width`, 'width and/or height (integers between 1 and 16384)', undefined, 'MissingParameter');
    }
    const side = ctx.limits.maxOutputDimension;
    for (const key of ['width', 'height'] as const) {
      if ((op[key] ?? 0) > side) throw invalidValue(`${ctx.where}.${key}`, `integer between 1 and ${side}`, op[key]);
    }
    const fit = op.fit ?? 'inside';
    // The result's size is known before any pixel work, so an enlargement past the pixel limit is refused here.
    const w = op.width ?? Math.round((ctx.width * op.height!) / ctx.height);
    const h = op.height ?? Math.round((ctx.height * op.width!) / ctx.width);
    if (op.enlarge && w * h > ctx.limits.maxPixels) {
      throw invalidValue(`${ctx.where}`, `a result of at most ${ctx.limits.maxPixels} pixels`, `${w}x${h}`);
    }
    const position = op.position ?? 'center';
    return img.resize({
      width: op.width,
      height: op.height,
      fit,
      withoutEnlargement: !op.enlarge,
      kernel: op.kernel ?? 'lanczos3',
      position: positions[position] ?? position,
      background: op.background ?? '#00000000',
    });
  },
});
