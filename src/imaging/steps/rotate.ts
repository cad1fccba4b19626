import { defineStep } from './step.js';

export const rotate = defineStep({
  name: 'rotate',
  apply(img, op) {
    return img.rotate(op.angle, { background: op.background ?? '#00000000' });
  },
});
