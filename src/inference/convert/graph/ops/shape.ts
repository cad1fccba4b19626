import type { OpHandler } from '../context.js';

export const shapeHandlers: Record<string, OpHandler> = {};
