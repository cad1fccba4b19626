import { Type } from '@sinclair/typebox';
import { catalogue } from '../errors/catalogue.js';

export const ErrorEnvelope = Type.Object({
  error: Type.Object({
    code: Type.String({ enum: Object.keys(catalogue), description: 'see docs/errors.md' }),
    message: Type.String({ description: 'names the parameter, what is allowed and what was received' }),
    requestId: Type.String(),
  }),
}, { $id: 'ErrorEnvelope', description: 'Every failure has this shape.' });

/** The statuses any catalogued error can take, so every route documents every error response. */
export const errorStatuses = [...new Set(Object.values(catalogue).map((c) => c.status))].sort();

/** The image input fields every image endpoint shares, as they appear in a JSON body. */
export const imageFields = {
  image: Type.Optional(Type.String({ description: 'base64 image, with or without a data: prefix (JSON); or a file (multipart)' })),
  url: Type.Optional(Type.String({ description: 'http(s) URL to fetch the image from', maxLength: 4096 })),
};
