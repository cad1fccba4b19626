import { invalidValue } from '../../errors/app-error.js';
import { defineStep } from './step.js';

export const crop = defineStep({
  name: 'crop',
  // A smart crop looks at one picture; on an animation it would pick a different box per frame.
  singleFrame: (op) => op.strategy !== undefined,
  apply(img, op, ctx) {
    if (op.strategy !== undefined) {
      if (op.x !== undefined || op.y !== undefined) {
        throw invalidValue(`${ctx.where}.strategy`, 'either strategy or x/y, not both', op.strategy);
      }
      return img.resize({
        width: Math.min(op.width, ctx.width),
        height: Math.min(op.height, ctx.height),
        fit: 'cover',
        position: op.strategy === 'center' ? 'centre' : op.strategy === 'attention' ? 17 : 16,
        withoutEnlargement: true,
      });
    }
    const x = op.x ?? 0;
    const y = op.y ?? 0;
    if (x + op.width > ctx.width || y + op.height > ctx.height) {
      throw invalidValue(
        ctx.where,
        `a box inside the ${ctx.width}x${ctx.height} image`,
        `x=${x} y=${y} width=${op.width} height=${op.height}`,
      );
    }
    return img.extract({ left: x, top: y, width: op.width, height: op.height });
  },
});
