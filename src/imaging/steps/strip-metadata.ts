import { defineStep } from './step.js';

/** The runner reads this step's presence to decide what metadata the output keeps; pixels are untouched. */
export const stripMetadata = defineStep({ name: 'strip-metadata', apply: (img) => img });
