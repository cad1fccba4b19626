// BMP decoder in plain TypeScript: sharp's libvips cannot read BMP, and this code sees hostile uploads, so it
// validates everything and throws only BmpError.
export { BmpError, type BmpErrorKind } from './errors.js';
export { isBmp, readBmpHeader, type BmpHeader } from './header.js';
export { decodeBmp, type DecodedBmp } from './decode.js';
