import type { OpHandler } from '../context.js';

export const resizeHandlers: Record<string, OpHandler> = {};
