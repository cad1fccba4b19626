import { constants } from 'node:buffer';
import { makeChannel, scale, type Channel } from './bitfields.js';
import { BmpError } from './errors.js';
import { parseBmp, type BmpMasks } from './header.js';
import { badIndex, readPalette } from './palette.js';
import { decodeRle } from './rle.js';

export interface DecodedBmp {
  width: number;
  height: number;
  channels: 3 | 4;
  /** Interleaved 8-bit RGB or RGBA, top-down rows, no padding. */
  data: Buffer;
}

/**
 * Decodes a whole BMP. The caller is expected to have checked width and height from readBmpHeader against its
 * own limits: RLE files can legitimately declare a huge canvas in a few bytes, so only the Buffer size limit
 * stops them here.
 */
export function decodeBmp(buf: Uint8Array): DecodedBmp {
  const parsed = parseBmp(buf);
  const { header, masks } = parsed;
  const { width, height, bitCount, compression, pixelOffset } = header;
  if (pixelOffset > buf.length) throw new BmpError('truncated', 'BMP: file ends before the pixel data');
  const palette = bitCount <= 8 ? readPalette(buf, parsed) : null;

  if (compression === 'rle8' || compression === 'rle4') {
    const out = allocate(width, height, 3);
    const first = palette!.subarray(0, 3);
    out.fill(first);
    decodeRle(buf, pixelOffset, width, height, compression === 'rle8' ? 8 : 4, palette!, out);
    return { width, height, channels: 3, data: out };
  }

  // Checked before allocating, so a tiny file declaring a huge uncompressed image fails without using memory.
  // The last row's padding is often missing in files in the wild, so only its pixel bytes are required.
  const rowBytes = Math.ceil((width * bitCount) / 8);
  const stride = Math.ceil(rowBytes / 4) * 4;
  if (stride * (height - 1) + rowBytes > buf.length - pixelOffset) {
    throw new BmpError('truncated', 'BMP: file ends inside the pixel data');
  }

  const channels = header.hasAlpha ? 4 : 3;
  const out = allocate(width, height, channels);
  const fields = masks !== null && !(bitCount === 32 && isPlainXrgb(masks)) ? makeChannels(masks) : null;
  let anyAlpha = false;
  for (let row = 0; row < height; row++) {
    const src = pixelOffset + row * stride;
    const dst = (header.topDown ? row : height - 1 - row) * width * channels;
    if (palette) decodePalettedRow(buf, src, width, bitCount, palette, out, dst);
    else if (bitCount === 24) decodeBgrRow(buf, src, width, 3, out, dst);
    else if (fields) anyAlpha = decodeBitfieldRow(buf, src, width, bitCount, fields, channels, out, dst) || anyAlpha;
    else decodeBgrRow(buf, src, width, 4, out, dst);
  }

  if (channels === 4 && !anyAlpha) {
    // Writers often declare an alpha mask and then leave it 0; showing that as fully transparent would be
    // useless, so do what browsers do and treat the image as opaque.
    return { width, height, channels: 3, data: dropAlpha(out, width * height) };
  }
  return { width, height, channels, data: out };
}

function allocate(width: number, height: number, channels: number): Buffer {
  const size = width * height * channels;
  if (size > constants.MAX_LENGTH) throw new BmpError('unsupported', `BMP: ${width}x${height} is too large to decode`);
  try {
    return Buffer.allocUnsafe(size);
  } catch {
    throw new BmpError('unsupported', `BMP: cannot allocate ${size} bytes for ${width}x${height}`);
  }
}

function decodePalettedRow(
  buf: Uint8Array, src: number, width: number, bitCount: number, palette: Uint8Array, out: Buffer, dst: number,
): void {
  const size = palette.length / 3;
  let d = dst;
  for (let x = 0; x < width; x++) {
    let index: number;
    if (bitCount === 8) index = buf[src + x]!;
    else if (bitCount === 4) index = (buf[src + (x >> 1)]! >> (x & 1 ? 0 : 4)) & 0x0f;
    else index = (buf[src + (x >> 3)]! >> (7 - (x & 7))) & 1;
    if (index >= size) throw badIndex(index, size);
    const s = index * 3;
    out[d++] = palette[s]!;
    out[d++] = palette[s + 1]!;
    out[d++] = palette[s + 2]!;
  }
}

/** 24-bit BGR and default 32-bit BGRx rows, the common photo case, without mask arithmetic. */
function decodeBgrRow(buf: Uint8Array, src: number, width: number, bytesPerPixel: number, out: Buffer, dst: number): void {
  let s = src;
  let d = dst;
  for (let x = 0; x < width; x++) {
    out[d++] = buf[s + 2]!;
    out[d++] = buf[s + 1]!;
    out[d++] = buf[s]!;
    s += bytesPerPixel;
  }
}

function isPlainXrgb(m: BmpMasks): boolean {
  return m.r === 0x00ff0000 && m.g === 0x0000ff00 && m.b === 0x000000ff && m.a === 0;
}

interface Channels {
  r: Channel;
  g: Channel;
  b: Channel;
  a: Channel;
}

function makeChannels(m: BmpMasks): Channels {
  return { r: makeChannel(m.r), g: makeChannel(m.g), b: makeChannel(m.b), a: makeChannel(m.a) };
}

/** Returns whether any pixel in the row had a non-zero alpha value. */
function decodeBitfieldRow(
  buf: Uint8Array, src: number, width: number, bitCount: number, ch: Channels, channels: number, out: Buffer, dst: number,
): boolean {
  const { r, g, b, a } = ch;
  let anyAlpha = false;
  let s = src;
  let d = dst;
  for (let x = 0; x < width; x++) {
    let px: number;
    if (bitCount === 16) {
      px = buf[s]! | (buf[s + 1]! << 8);
      s += 2;
    } else {
      px = (buf[s]! | (buf[s + 1]! << 8) | (buf[s + 2]! << 16) | (buf[s + 3]! << 24)) >>> 0;
      s += 4;
    }
    out[d++] = scale(r, px);
    out[d++] = scale(g, px);
    out[d++] = scale(b, px);
    if (channels === 4) {
      // Tested on the raw value: a wide alpha channel can hold non-zero values that scale to 0.
      if ((px & a.mask) !== 0) anyAlpha = true;
      out[d++] = scale(a, px);
    }
  }
  return anyAlpha;
}

/** Compacts RGBA to RGB in place; safe front to back because each write lands at or before its read. */
function dropAlpha(rgba: Buffer, pixels: number): Buffer {
  for (let i = 0, s = 0, d = 0; i < pixels; i++, s += 4) {
    rgba[d++] = rgba[s]!;
    rgba[d++] = rgba[s + 1]!;
    rgba[d++] = rgba[s + 2]!;
  }
  return rgba.subarray(0, pixels * 3);
}
