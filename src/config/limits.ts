/**
 * Every default limit, in one object. The operator may change them through the environment (see
 * src/config/env.ts and docs/configuration.md); a request never can.
 */
export const defaultLimits = {
  /** Largest accepted image, in bytes, however it arrives (upload, base64, URL). */
  maxImageBytes: 20 * 1024 * 1024,
  /** Largest request body; base64 inflates an image by 4/3, so this sits above maxImageBytes. */
  maxBodyBytes: 32 * 1024 * 1024,
  /** Largest width and height, read from the header before decoding. */
  maxWidth: 16_384,
  maxHeight: 16_384,
  /** Largest total pixel count: width x height x frames for animations. */
  maxPixels: 100_000_000,
  /** Smallest width and height accepted. */
  minDimension: 1,
  /** Most frames (animation) or pages (multi-page TIFF). */
  maxFrames: 300,
  /** URL fetching: per-request deadline, redirect hops. Bytes are capped by maxImageBytes. */
  fetchTimeoutMs: 10_000,
  fetchMaxRedirects: 3,
  /** Most operations in one /v1/images/process request. */
  maxOperations: 10,
  /** Deadline for one processing request, checked after each step. */
  processTimeoutMs: 30_000,
  /** Requests that may wait for a processing slot; beyond this, 429 with Retry-After. */
  maxQueue: 256,
  /** Largest output side a resize may ask for (an enlargement is still bounded by maxPixels). */
  maxOutputDimension: 16_384,
} as const;

export type Limits = { -readonly [K in keyof typeof defaultLimits]: number };
