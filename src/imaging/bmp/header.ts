import { i32, u16, u32 } from './bytes.js';
import { BmpError } from './errors.js';

export interface BmpHeader {
  /** Absolute pixel sizes; `height` is positive even for top-down files. */
  width: number;
  height: number;
  topDown: boolean;
  /** 1, 4, 8, 16, 24 or 32. */
  bitCount: number;
  compression: 'rgb' | 'rle8' | 'rle4' | 'bitfields';
  /**
   * The file declares an alpha mask (in a v3+ header, or after a 40-byte header with BI_ALPHABITFIELDS).
   * decodeBmp may still return 3 channels: an alpha channel that is 0 everywhere is treated as opaque.
   */
  hasAlpha: boolean;
  headerSize: number;
  pixelOffset: number;
  /** Palette entries actually used (0 for 16/24/32-bit). */
  paletteSize: number;
}

/** Unsigned 32-bit channel masks; a zero mask means the channel is absent. */
export interface BmpMasks {
  r: number;
  g: number;
  b: number;
  a: number;
}

export interface ParsedBmp {
  header: BmpHeader;
  /** Set for 16 and 32-bit images (defaults filled in for BI_RGB), null otherwise. */
  masks: BmpMasks | null;
  paletteOffset: number;
  /** OS/2 v1 palettes are RGBTRIPLEs, every later header uses RGBQUADs. */
  paletteEntrySize: 3 | 4;
}

const FILE_HEADER_SIZE = 14;
const CORE_HEADER = 12;
const KNOWN_HEADER_SIZES = new Set([CORE_HEADER, 40, 52, 56, 108, 124]);

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const BI_JPEG = 4;
const BI_PNG = 5;
const BI_ALPHABITFIELDS = 6;

/** 'BM' magic and long enough to hold the file header and the smallest (OS/2 v1) DIB header. */
export function isBmp(buf: Uint8Array): boolean {
  return buf.length >= FILE_HEADER_SIZE + CORE_HEADER && buf[0] === 0x42 && buf[1] === 0x4d;
}

/** Reads and validates only the file and DIB headers; never touches palette or pixel bytes. */
export function readBmpHeader(buf: Uint8Array): BmpHeader {
  return parseBmp(buf).header;
}

export function parseBmp(buf: Uint8Array): ParsedBmp {
  if (buf.length < 2) throw new BmpError('truncated', 'BMP: file is shorter than its signature');
  if (buf[0] !== 0x42 || buf[1] !== 0x4d) throw new BmpError('invalid', 'BMP: missing "BM" signature');
  if (buf.length < FILE_HEADER_SIZE + 4) throw new BmpError('truncated', 'BMP: file ends inside the file header');

  const pixelOffset = u32(buf, 10);
  const headerSize = u32(buf, 14);
  if (!KNOWN_HEADER_SIZES.has(headerSize)) {
    // 16 and 64 are OS/2 2.x BITMAPINFOHEADER2: a real format, just not one we decode.
    if (headerSize === 16 || headerSize === 64) throw new BmpError('unsupported', 'BMP: OS/2 2.x headers are not supported');
    throw new BmpError('invalid', `BMP: unknown DIB header size ${headerSize}`);
  }
  const dibEnd = FILE_HEADER_SIZE + headerSize;
  if (buf.length < dibEnd) throw new BmpError('truncated', 'BMP: file ends inside the DIB header');

  let width: number;
  let rawHeight: number;
  let planes: number;
  let bitCount: number;
  let code = BI_RGB;
  let colorsUsed = 0;
  if (headerSize === CORE_HEADER) {
    // OS/2 v1 sizes are unsigned 16-bit, so these files are always bottom-up.
    width = u16(buf, 18);
    rawHeight = u16(buf, 20);
    planes = u16(buf, 22);
    bitCount = u16(buf, 24);
  } else {
    width = i32(buf, 18);
    rawHeight = i32(buf, 22);
    planes = u16(buf, 26);
    bitCount = u16(buf, 28);
    code = u32(buf, 30);
    colorsUsed = u32(buf, 46);
  }

  if (width <= 0) throw new BmpError('invalid', `BMP: width must be positive, got ${width}`);
  if (rawHeight === 0) throw new BmpError('invalid', 'BMP: height is 0');
  if (planes !== 1) throw new BmpError('invalid', `BMP: planes must be 1, got ${planes}`);

  let compression: BmpHeader['compression'];
  switch (code) {
    case BI_RGB: compression = 'rgb'; break;
    case BI_RLE8: compression = 'rle8'; break;
    case BI_RLE4: compression = 'rle4'; break;
    case BI_BITFIELDS:
    case BI_ALPHABITFIELDS: compression = 'bitfields'; break;
    case BI_JPEG: throw new BmpError('unsupported', 'BMP: embedded JPEG (BI_JPEG) is not supported');
    case BI_PNG: throw new BmpError('unsupported', 'BMP: embedded PNG (BI_PNG) is not supported');
    default: throw new BmpError('unsupported', `BMP: unknown compression ${code}`);
  }

  if (![1, 4, 8, 16, 24, 32].includes(bitCount)) {
    // 2 (Windows CE) and 64 (scRGB) exist in the wild; anything else is garbage.
    const kind = bitCount === 2 || bitCount === 64 ? 'unsupported' : 'invalid';
    throw new BmpError(kind, `BMP: ${kind} bit count ${bitCount}`);
  }
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  if (compression === 'rle8' && bitCount !== 8) throw new BmpError('invalid', `BMP: RLE8 with ${bitCount} bits per pixel`);
  if (compression === 'rle4' && bitCount !== 4) throw new BmpError('invalid', `BMP: RLE4 with ${bitCount} bits per pixel`);
  // The format defines RLE only bottom-up; a top-down RLE file has no agreed meaning.
  if ((compression === 'rle8' || compression === 'rle4') && topDown) {
    throw new BmpError('invalid', 'BMP: RLE compression with top-down row order');
  }
  if (compression === 'bitfields' && bitCount !== 16 && bitCount !== 32) {
    throw new BmpError('invalid', `BMP: BI_BITFIELDS with ${bitCount} bits per pixel`);
  }

  let paletteOffset = dibEnd;
  let masks: BmpMasks | null = null;
  if (compression === 'bitfields') {
    if (headerSize >= 52) {
      masks = { r: u32(buf, 54), g: u32(buf, 58), b: u32(buf, 62), a: headerSize >= 56 ? u32(buf, 66) : 0 };
    } else {
      // A 40-byte header keeps its masks in the 12 (or 16, with alpha) bytes after it.
      const maskBytes = code === BI_ALPHABITFIELDS ? 16 : 12;
      if (buf.length < dibEnd + maskBytes) throw new BmpError('truncated', 'BMP: file ends inside the colour masks');
      masks = {
        r: u32(buf, dibEnd),
        g: u32(buf, dibEnd + 4),
        b: u32(buf, dibEnd + 8),
        a: maskBytes === 16 ? u32(buf, dibEnd + 12) : 0,
      };
      paletteOffset += maskBytes;
    }
    // Some writers set BI_BITFIELDS but leave the masks zero; they mean the defaults.
    if (masks.r === 0 && masks.g === 0 && masks.b === 0) masks = { ...defaultMasks(bitCount), a: masks.a };
  } else if (bitCount === 16 || bitCount === 32) {
    masks = defaultMasks(bitCount);
    // BI_RGB ignores the colour masks, but writers of 32-bit v3+ headers use the alpha mask to flag the spare
    // byte as alpha. Only honour it when it does not collide with the fixed colour channels.
    if (bitCount === 32 && headerSize >= 56) {
      const a = u32(buf, 66);
      if ((a & 0x00ffffff) === 0) masks.a = a;
    }
  }
  if (masks) validateMasks(masks, bitCount);

  const paletteEntrySize = headerSize === CORE_HEADER ? 3 : 4;
  if (pixelOffset < paletteOffset) throw new BmpError('invalid', `BMP: pixel data offset ${pixelOffset} lies inside the headers`);
  let paletteSize = 0;
  if (bitCount <= 8) {
    const max = 1 << bitCount;
    // An oversized colour count is clamped rather than rejected, as other decoders do.
    const declared = colorsUsed === 0 ? max : Math.min(colorsUsed, max);
    // The palette may hold fewer entries than declared: it cannot extend into the pixel data.
    paletteSize = Math.min(declared, Math.floor((pixelOffset - paletteOffset) / paletteEntrySize));
    if (paletteSize === 0) throw new BmpError('invalid', 'BMP: paletted image without a palette');
  }

  const header: BmpHeader = {
    width,
    height,
    topDown,
    bitCount,
    compression,
    hasAlpha: masks !== null && masks.a !== 0,
    headerSize,
    pixelOffset,
    paletteSize,
  };
  return { header, masks, paletteOffset, paletteEntrySize };
}

function defaultMasks(bitCount: number): BmpMasks {
  return bitCount === 16 ? { r: 0x7c00, g: 0x03e0, b: 0x001f, a: 0 } : { r: 0x00ff0000, g: 0x0000ff00, b: 0x000000ff, a: 0 };
}

function validateMasks(masks: BmpMasks, bitCount: number): void {
  const limit = bitCount === 16 ? 0xffff : 0xffffffff;
  for (const [name, mask] of Object.entries(masks) as [string, number][]) {
    if (mask > limit) throw new BmpError('invalid', `BMP: ${name} mask 0x${mask.toString(16)} exceeds ${bitCount} bits`);
    if (mask === 0) continue;
    const shifted = mask >>> ctz(mask);
    // Contiguous iff shifted is 2^k - 1 (for all 32 bits, shifted + 1 = 2^32 becomes 0 under `&`).
    if (((shifted + 1) & shifted) !== 0) {
      throw new BmpError('invalid', `BMP: ${name} mask 0x${mask.toString(16)} is not contiguous`);
    }
  }
}

/** Count of trailing zero bits of a non-zero 32-bit value. */
export function ctz(v: number): number {
  return 31 - Math.clz32(v & -v);
}
