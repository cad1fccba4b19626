import { invalidValue } from '../../errors/app-error.js';
import { defineStep } from './step.js';

export const grayscale = defineStep({ name: 'grayscale', apply: (img) => img.grayscale() });

export const normalize = defineStep({
  name: 'normalize',
  apply(img, op, ctx) {
    const lower = op.lower ?? 1;
    const upper = op.upper ?? 99;
    if (lower >= upper) throw invalidValue(`${ctx.where}.lower`, `an integer below upper (${upper})`, lower);
    return img.normalize({ lower, upper });
  },
});

export const gamma = defineStep({ name: 'gamma', apply: (img, op) => img.gamma(op.gamma ?? 2.2) });

export const modulate = defineStep({
  name: 'modulate',
  apply(img, op) {
    return img.modulate({
      ...(op.brightness !== undefined && { brightness: op.brightness }),
      ...(op.saturation !== undefined && { saturation: op.saturation }),
      ...(op.hue !== undefined && { hue: op.hue }),
    });
  },
});
