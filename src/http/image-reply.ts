import type { FastifyReply, FastifyRequest } from 'fastify';
import { contentTypes } from '../imaging/encode.js';

/** What an image-answering route produced: the encoded bytes and what JSON clients are told about them. */
export interface ImageAnswer {
  data: Buffer;
  format: keyof typeof contentTypes;
  width: number;
  height: number;
  /** Extra fields of the JSON form (frames, channels, ...). */
  extra?: Record<string, unknown>;
}

/**
 * The image itself, or under `Accept: application/json` (without image/*) the same as JSON with base64:
 * one rule for every route that answers an image.
 */
export function sendImage(request: FastifyRequest, reply: FastifyReply, answer: ImageAnswer): FastifyReply | Record<string, unknown> {
  reply.header('X-Image-Width', answer.width).header('X-Image-Height', answer.height);
  const accept = request.headers.accept ?? '';
  if (accept.includes('application/json') && !accept.includes('image/')) {
    return {
      requestId: String(request.id), image: answer.data.toString('base64'), format: answer.format,
      width: answer.width, height: answer.height, ...answer.extra, bytes: answer.data.length,
    };
  }
  return reply.type(contentTypes[answer.format]).send(answer.data);
}
