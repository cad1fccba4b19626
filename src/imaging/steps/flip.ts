import { defineStep } from './step.js';

export const flip = defineStep({ name: 'flip', apply: (img) => img.flip() });
export const flop = defineStep({ name: 'flop', apply: (img) => img.flop() });
