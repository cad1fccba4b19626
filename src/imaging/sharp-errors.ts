import { AppError } from '../errors/app-error.js';

/**
 * Turns a libvips/sharp failure into a catalogued error. Parameters are validated before sharp runs, so a
 * failure inside sharp is attributed to the image bytes (4xx); the raw message goes to the log only.
 */
export function fromSharpError(err: unknown, format: string): AppError {
  if (err instanceof AppError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  if (/exceeds pixel limit/i.test(detail)) {
    return new AppError('FailedOperation.ImageResolutionExceed', `The ${format} image exceeds the pixel limit`, { detail, cause: err });
  }
  if (/compression format has not been built in|unsupported image format/i.test(detail)) {
    return new AppError('FailedOperation.ImageNotSupported', `The ${format} image uses a compression this server cannot decode`, { detail, cause: err });
  }
  if (/timeout/i.test(detail)) {
    return new AppError('FailedOperation.ProcessingTimeout', 'Processing the image took longer than the server allows', { detail, cause: err });
  }
  return new AppError('FailedOperation.ImageDecodeFailed', `The ${format} image could not be decoded: it is corrupt or truncated`, { detail, cause: err });
}
