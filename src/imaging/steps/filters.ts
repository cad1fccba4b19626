import { defineStep } from './step.js';

export const blur = defineStep({ name: 'blur', apply: (img, op) => img.blur(op.sigma ?? 2) });
export const sharpen = defineStep({ name: 'sharpen', apply: (img, op) => img.sharpen({ sigma: op.sigma ?? 1 }) });
