import type { OpHandler } from '../context.js';

export const miscHandlers: Record<string, OpHandler> = {};
