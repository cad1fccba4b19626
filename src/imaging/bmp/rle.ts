import { BmpError } from './errors.js';
import { badIndex } from './palette.js';

/**
 * Decodes BI_RLE8 / BI_RLE4 data starting at `start` into `out` (3 channels, top-down rows, already filled
 * with palette colour 0 for the pixels the stream skips).
 *
 * Every step consumes at least two input bytes and every pixel write is bounds-checked, so hostile streams end
 * in a BmpError after at most buf.length / 2 steps; there is no way to loop forever or write outside `out`.
 */
export function decodeRle(
  buf: Uint8Array,
  start: number,
  width: number,
  height: number,
  bitCount: 4 | 8,
  palette: Uint8Array,
  out: Uint8Array,
): void {
  const paletteSize = palette.length / 3;
  const end = buf.length;
  let p = start;
  // Position in stream order: y = 0 is the bottom row of the picture.
  let x = 0;
  let y = 0;

  const put = (index: number): void => {
    if (index >= paletteSize) throw badIndex(index, paletteSize);
    const d = ((height - 1 - y) * width + x) * 3;
    const s = index * 3;
    out[d] = palette[s]!;
    out[d + 1] = palette[s + 1]!;
    out[d + 2] = palette[s + 2]!;
    x++;
  };
  const pastImage = (): BmpError => new BmpError('invalid', 'BMP: RLE data runs past the end of the image');

  for (;;) {
    if (p + 2 > end) {
      // A missing end-of-bitmap marker is harmless once every row has been written.
      if (y >= height || (y === height - 1 && x === width)) return;
      throw new BmpError('truncated', 'BMP: RLE data ends before the end-of-bitmap marker');
    }
    const count = buf[p]!;
    const code = buf[p + 1]!;
    p += 2;

    if (count > 0) {
      // Encoded run. Some encoders emit runs longer than the rest of the row; like browsers, drop the excess
      // instead of rejecting the file (it cannot spill into the next row).
      if (y >= height) throw pastImage();
      const n = Math.min(count, width - x);
      if (bitCount === 8) {
        for (let i = 0; i < n; i++) put(code);
      } else {
        const hi = code >> 4;
        const lo = code & 0x0f;
        for (let i = 0; i < n; i++) put(i & 1 ? lo : hi);
      }
      continue;
    }

    switch (code) {
      case 0: // end of line
        x = 0;
        y++;
        // One end-of-line after the top row is common; more means the stream has lost track of the image.
        if (y > height) throw pastImage();
        break;
      case 1: // end of bitmap
        return;
      case 2: { // delta: skip right dx, up dy
        if (p + 2 > end) throw new BmpError('truncated', 'BMP: RLE data ends inside a delta escape');
        x += buf[p]!;
        y += buf[p + 1]!;
        p += 2;
        if (x > width || y > height) throw pastImage();
        break;
      }
      default: { // absolute mode: `code` literal pixels, padded to a 16-bit boundary
        const bytes = bitCount === 8 ? code : (code + 1) >> 1;
        if (p + bytes > end) throw new BmpError('truncated', 'BMP: RLE data ends inside an absolute run');
        // Unlike encoded runs, literal pixels past the row end are real data with nowhere to go.
        if (y >= height || x + code > width) throw pastImage();
        if (bitCount === 8) {
          for (let i = 0; i < code; i++) put(buf[p + i]!);
        } else {
          for (let i = 0; i < code; i++) {
            const byte = buf[p + (i >> 1)]!;
            put(i & 1 ? byte & 0x0f : byte >> 4);
          }
        }
        p += bytes + (bytes & 1);
      }
    }
  }
}
