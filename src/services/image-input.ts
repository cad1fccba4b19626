import type { Limits } from '../config/limits.js';
import { AppError } from '../errors/app-error.js';
import { decodeBase64Image } from '../imaging/base64.js';
import { probeImage, type ImageProbe } from '../imaging/probe.js';
import { fetchImageUrl } from '../net/fetch-url.js';
import { imagesDecoded, bytesIn } from '../observability/metrics.js';

/** How an image reached us. Exactly one per request; the HTTP layer and the CLI build it. */
export type ImageSource =
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'base64'; text: string }
  | { kind: 'url'; url: string };

export interface InputGateOptions {
  limits: Limits;
  fetchAllowHosts: readonly string[];
}

/**
 * The input gate every endpoint uses: bytes from an upload, base64 or a URL, then the header probe with every
 * limit checked before a pixel is decoded.
 */
export async function openImageSource(source: ImageSource, opts: InputGateOptions, signal?: AbortSignal): Promise<ImageProbe> {
  let bytes: Buffer;
  switch (source.kind) {
    case 'bytes':
      bytes = source.bytes;
      break;
    case 'base64':
      bytes = decodeBase64Image(source.text, 'image', opts.limits.maxImageBytes);
      break;
    case 'url': {
      const fetched = await fetchImageUrl(source.url, {
        maxBytes: opts.limits.maxImageBytes,
        timeoutMs: opts.limits.fetchTimeoutMs,
        maxRedirects: opts.limits.fetchMaxRedirects,
        allowHosts: opts.fetchAllowHosts,
        ...(signal && { signal }),
      });
      bytes = fetched.bytes;
      break;
    }
  }
  bytesIn.inc(bytes.length);
  const probe = await probeImage(bytes, opts.limits);
  imagesDecoded.inc({ format: probe.format });
  return probe;
}

/** Turns the loose fields of a request into one ImageSource, refusing none or several. */
export function pickImageSource(fields: { image?: unknown; url?: unknown; upload?: Buffer }): ImageSource {
  const given = [fields.upload !== undefined, fields.image !== undefined, fields.url !== undefined].filter(Boolean).length;
  if (given === 0) {
    throw new AppError('MissingParameter', 'Expected one of image (multipart file or base64 string) or url for image but received nothing');
  }
  if (given > 1) {
    throw new AppError('InvalidParameter', 'Expected exactly one of image or url for image but received both');
  }
  if (fields.upload !== undefined) return { kind: 'bytes', bytes: fields.upload };
  if (fields.image !== undefined) {
    if (typeof fields.image !== 'string') {
      throw new AppError('InvalidParameterValue', `Expected a base64 string for image but received ${typeof fields.image}`);
    }
    return { kind: 'base64', text: fields.image };
  }
  if (typeof fields.url !== 'string' || fields.url.length > 4096) {
    throw new AppError('InvalidParameterValue.UrlIllegal', 'Expected an http(s) URL of at most 4096 characters for url but received something else');
  }
  return { kind: 'url', url: fields.url };
}
