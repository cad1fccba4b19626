import { AppError } from '../errors/app-error.js';

const dataUrl = /^data:([a-z0-9.+\-]+\/[a-z0-9.+\-]+)?(;[a-z0-9\-]+=[^;,]*)*;base64,/i;

/**
 * Strict base64 (standard or URL-safe alphabet, optional data: prefix, whitespace ignored). The size is
 * checked from the text length before anything is decoded.
 */
export function decodeBase64Image(text: string, param: string, maxBytes: number): Buffer {
  const body = text.replace(dataUrl, '').replace(/\s+/g, '');
  if (body.length === 0) {
    throw new AppError('FailedOperation.EmptyImageError', `Expected a non-empty base64 image for ${param} but received an empty string`);
  }
  const estimated = Math.floor((body.length * 3) / 4);
  if (estimated > maxBytes + 3) {
    throw new AppError('FailedOperation.ImageSizeExceed', `Expected at most ${maxBytes} bytes for ${param} but received about ${estimated}`);
  }
  if (!/^[A-Za-z0-9+/\-_]+={0,2}$/.test(body) || body.length % 4 === 1) {
    throw new AppError('InvalidParameterValue.ImageBase64Illegal', `Expected base64 text for ${param} but received characters outside the base64 alphabet`);
  }
  return Buffer.from(body, 'base64');
}
