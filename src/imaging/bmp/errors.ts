export type BmpErrorKind = 'truncated' | 'invalid' | 'unsupported';

/**
 * The only error the BMP decoder throws. `kind` lets the caller choose a response without parsing messages:
 * 'truncated' (the file ends early), 'invalid' (breaks the format), 'unsupported' (valid, but a variant we do
 * not decode, such as embedded JPEG/PNG or OS/2 2.x headers).
 */
export class BmpError extends Error {
  constructor(
    readonly kind: BmpErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'BmpError';
  }
}
