import type { FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { AppError } from '../errors/app-error.js';
import './plugins/auth.js';
import { pickImageSource, type ImageSource } from '../services/image-input.js';

/** What an image endpoint receives, whichever way it arrived: the image source and the other fields. */
export interface ImageRequest {
  source: ImageSource;
  fields: Record<string, unknown>;
  /** Multipart fields are text; JSON-valued ones are parsed here, scalars are coerced by the validator. */
  fromMultipart: boolean;
  /** Other file fields a route accepts (e.g. segment's background_image), by field name. */
  files?: Record<string, Buffer>;
}

function parseJsonField(name: string, value: string): unknown {
  const text = value.trim();
  if (!text.startsWith('{') && !text.startsWith('[')) return value;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError('InvalidParameter', `Expected JSON for the ${name} field but received malformed JSON`, { cause: err });
  }
}

async function readUpload(part: MultipartFile, maxBytes: number): Promise<Buffer> {
  try {
    return await part.toBuffer();
  } catch (err) {
    if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
      throw new AppError('FailedOperation.ImageSizeExceed', `Expected at most ${maxBytes} bytes for image but received more`, { cause: err });
    }
    throw err;
  }
}

async function readMultipart(request: FastifyRequest, maxBytes: number, extraFiles: readonly string[]): Promise<ImageRequest> {
  let upload: Buffer | undefined;
  const fields: Record<string, unknown> = {};
  const files: Record<string, Buffer> = {};
  for await (const part of request.parts()) {
    if (part.type === 'file' && extraFiles.includes(part.fieldname) && files[part.fieldname] === undefined) {
      files[part.fieldname] = await readUpload(part, maxBytes);
    } else if (part.type === 'file') {
      if (part.fieldname !== 'image' || upload !== undefined) {
        await part.toBuffer().catch(() => undefined);
        throw new AppError('InvalidParameter', `Expected one file in the image field but received a file in ${JSON.stringify(part.fieldname)}`);
      }
      upload = await readUpload(part, maxBytes);
    } else {
      fields[part.fieldname] = typeof part.value === 'string' ? parseJsonField(part.fieldname, part.value) : part.value;
    }
  }
  // DeepStack-style clients put their API key among the form fields: authenticate before any work is done.
  if (request.deferredAuth) await request.deferredAuth(fields.api_key);
  delete fields.api_key;
  const source = pickImageSource({ image: fields.image, url: fields.url, ...(upload && { upload }) });
  delete fields.image;
  delete fields.url;
  return { source, fields, fromMultipart: true, ...(extraFiles.length > 0 && { files }) };
}

export async function readImageRequest(request: FastifyRequest, maxBytes: number, extraFiles: readonly string[] = []): Promise<ImageRequest> {
  if (request.isMultipart()) {
    try {
      return await readMultipart(request, maxBytes, extraFiles);
    } catch (err) {
      if (err instanceof AppError) throw err;
      // busboy reports a broken body (bad boundary, cut short) as a plain Error: the client's fault.
      const reason = err instanceof Error ? err.message : String(err);
      throw new AppError('InvalidParameter', `Expected a well-formed multipart/form-data body but received one that failed to parse (${reason})`, { cause: err });
    }
  }
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('InvalidParameter', 'Expected a JSON object or multipart/form-data body but received something else');
  }
  const { image, url, ...fields } = body as Record<string, unknown>;
  return { source: pickImageSource({ image, url }), fields, fromMultipart: false };
}
