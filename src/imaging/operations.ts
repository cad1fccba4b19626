import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * The processing descriptor: what a request may ask for, as schemas. The HTTP layer publishes them in the
 * OpenAPI document; src/services/validate.ts checks requests and CLI flags against them with sharp-shaped
 * messages, so the imaging core only ever sees complete, valid operations.
 */
const int = (minimum: number, maximum: number, extra: object = {}) => Type.Integer({ minimum, maximum, ...extra });
const num = (minimum: number, maximum: number, extra: object = {}) => Type.Number({ minimum, maximum, ...extra });
const oneOf = <T extends string>(values: readonly T[], extra: object = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...extra });

export const colourSchema = Type.String({
  pattern: '^#([0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$',
  description: 'a CSS hex colour such as #fff, #ffffff or #ffffff80',
  examples: ['#000000'],
});

export const fits = ['cover', 'contain', 'fill', 'inside', 'outside'] as const;
export const kernels = ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'] as const;
export const gravities = ['center', 'north', 'northeast', 'east', 'southeast', 'south', 'southwest', 'west', 'northwest'] as const;
export const cropStrategies = ['attention', 'entropy', 'center'] as const;

const dimension = int(1, 16_384);

export const operationSchemas = {
  resize: Type.Object({
    op: Type.Literal('resize'),
    width: Type.Optional(dimension),
    height: Type.Optional(dimension),
    fit: Type.Optional(oneOf(fits, { default: 'inside' })),
    enlarge: Type.Optional(Type.Boolean({ default: false, description: 'allow the result to be larger than the input' })),
    kernel: Type.Optional(oneOf(kernels, { default: 'lanczos3' })),
    position: Type.Optional(oneOf([...gravities, ...cropStrategies], { default: 'center', description: 'what to keep when fit is cover' })),
    background: Type.Optional(colourSchema),
  }, { additionalProperties: false, description: 'Scale to width and/or height.' }),
  crop: Type.Object({
    op: Type.Literal('crop'),
    width: dimension,
    height: dimension,
    x: Type.Optional(int(0, 1_000_000)),
    y: Type.Optional(int(0, 1_000_000)),
    strategy: Type.Optional(oneOf(cropStrategies, { description: 'smart crop to width x height instead of a box at x,y' })),
  }, { additionalProperties: false, description: 'Cut out a box at x,y, or a smart crop of width x height.' }),
  rotate: Type.Object({
    op: Type.Literal('rotate'),
    angle: num(-360, 360),
    background: Type.Optional(colourSchema),
  }, { additionalProperties: false, description: 'Rotate clockwise by any angle; corners are filled with background.' }),
  flip: Type.Object({ op: Type.Literal('flip') }, { additionalProperties: false, description: 'Mirror vertically.' }),
  flop: Type.Object({ op: Type.Literal('flop') }, { additionalProperties: false, description: 'Mirror horizontally.' }),
  blur: Type.Object({
    op: Type.Literal('blur'),
    sigma: Type.Optional(num(0.3, 100, { default: 2 })),
  }, { additionalProperties: false, description: 'Gaussian blur.' }),
  sharpen: Type.Object({
    op: Type.Literal('sharpen'),
    sigma: Type.Optional(num(0.01, 10, { default: 1 })),
  }, { additionalProperties: false, description: 'Unsharp mask on lightness.' }),
  grayscale: Type.Object({ op: Type.Literal('grayscale') }, { additionalProperties: false, description: 'Convert to shades of grey.' }),
  normalize: Type.Object({
    op: Type.Literal('normalize'),
    lower: Type.Optional(int(0, 99, { default: 1 })),
    upper: Type.Optional(int(1, 100, { default: 99 })),
  }, { additionalProperties: false, description: 'Auto-enhance: stretch lightness between the given percentiles.' }),
  gamma: Type.Object({
    op: Type.Literal('gamma'),
    gamma: Type.Optional(num(1, 3, { default: 2.2 })),
  }, { additionalProperties: false, description: 'Gamma correction.' }),
  modulate: Type.Object({
    op: Type.Literal('modulate'),
    brightness: Type.Optional(num(0, 10)),
    saturation: Type.Optional(num(0, 10)),
    hue: Type.Optional(int(-360, 360)),
  }, { additionalProperties: false, description: 'Brightness and saturation as multipliers, hue as a rotation in degrees.' }),
  watermark: Type.Object({
    op: Type.Literal('watermark'),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    image: Type.Optional(Type.String({ minLength: 1, description: 'base64 image (PNG with alpha works best)' })),
    position: Type.Optional(oneOf(gravities, { default: 'southeast' })),
    margin: Type.Optional(int(0, 1000, { default: 16 })),
    opacity: Type.Optional(num(0, 1, { default: 0.5 })),
    size: Type.Optional(num(0.01, 1, { default: 0.25, description: 'width of the mark as a fraction of the image width' })),
    colour: Type.Optional(colourSchema),
  }, { additionalProperties: false, description: 'Overlay text or an image.' }),
  'strip-metadata': Type.Object({ op: Type.Literal('strip-metadata') }, { additionalProperties: false, description: 'Drop EXIF, XMP, IPTC and ICC.' }),
} as const;

export type OperationName = keyof typeof operationSchemas;
export const operationNames = Object.keys(operationSchemas) as OperationName[];
export type OperationOf<N extends OperationName> = Static<(typeof operationSchemas)[N]>;
export type Operation = { [N in OperationName]: OperationOf<N> }[OperationName];

export const outputFormats = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff'] as const;
export type OutputFormat = (typeof outputFormats)[number];

export const outputSchema = Type.Object({
  format: Type.Optional(oneOf(outputFormats, { description: 'default: the input format (PNG for BMP input)' })),
  quality: Type.Optional(int(1, 100, { description: 'jpeg, webp, avif, tiff (default 80; avif 50)' })),
  effort: Type.Optional(int(0, 10, { description: 'webp 0-6, avif 0-9, png 1-10, gif 1-10: CPU spent on compression' })),
  progressive: Type.Optional(Type.Boolean({ description: 'jpeg progressive scan, png/gif interlace' })),
  lossless: Type.Optional(Type.Boolean({ description: 'webp, avif' })),
}, { additionalProperties: false });
export type OutputSpec = Static<typeof outputSchema>;

/** The union as OpenAPI shows it: one object per operation, told apart by `op`. */
export const operationUnionSchema: TSchema = Type.Unsafe({
  oneOf: Object.values(operationSchemas),
  discriminator: { propertyName: 'op' },
});
