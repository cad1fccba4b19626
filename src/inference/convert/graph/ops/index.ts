import type { OpHandler } from '../context.js';
import { convHandlers } from './conv.js';
import { elementwiseHandlers } from './elementwise.js';
import { matmulHandlers } from './matmul.js';
import { miscHandlers } from './misc.js';
import { reduceHandlers } from './reduce.js';
import { resizeHandlers } from './resize.js';
import { shapeHandlers } from './shape.js';

/** Every TF op the converter knows, by TF op name. An op missing here is a ConvertError naming it. */
export const handlers: Readonly<Record<string, OpHandler>> = {
  ...convHandlers,
  ...elementwiseHandlers,
  ...reduceHandlers,
  ...shapeHandlers,
  ...matmulHandlers,
  ...resizeHandlers,
  ...miscHandlers,
};
