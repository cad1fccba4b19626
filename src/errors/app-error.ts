import { catalogue, type ErrorCode } from './catalogue.js';

/**
 * The only error type the core throws on purpose. `message` is public (sent to the client); `detail` is for
 * the log only, so that library internals never leak into a response.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail?: string;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, opts: { detail?: string; cause?: unknown; headers?: Record<string, string> } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = catalogue[code].status;
    if (opts.detail !== undefined) this.detail = opts.detail;
    if (opts.headers !== undefined) this.headers = opts.headers;
  }
}

/** Renders a received value for a message: short, JSON-ish, never huge. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 61)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (Buffer.isBuffer(value)) return `${value.length} bytes`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** sharp's message shape: "Expected integer between 1 and 100 for quality but received 120". */
export function invalidValue(param: string, expected: string, received: unknown, code: ErrorCode = 'InvalidParameterValue'): AppError {
  return new AppError(code, `Expected ${expected} for ${param} but received ${describeValue(received)}`);
}

export function missing(param: string, expected: string): AppError {
  return new AppError('MissingParameter', `Expected ${expected} for ${param} but received nothing`);
}
