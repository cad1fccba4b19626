import type { OpHandler } from '../context.js';

export const matmulHandlers: Record<string, OpHandler> = {};
