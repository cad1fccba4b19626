import { BmpError } from './errors.js';
import type { ParsedBmp } from './header.js';

/** The palette as packed RGB triples, paletteSize entries. */
export function readPalette(buf: Uint8Array, parsed: ParsedBmp): Uint8Array {
  const { paletteOffset, paletteEntrySize } = parsed;
  const n = parsed.header.paletteSize;
  if (paletteOffset + n * paletteEntrySize > buf.length) throw new BmpError('truncated', 'BMP: file ends inside the palette');
  const pal = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const s = paletteOffset + i * paletteEntrySize;
    // Entries are stored B, G, R (then a reserved byte that some writers fill with junk, so it is never alpha).
    pal[i * 3] = buf[s + 2]!;
    pal[i * 3 + 1] = buf[s + 1]!;
    pal[i * 3 + 2] = buf[s]!;
  }
  return pal;
}

export function badIndex(index: number, size: number): BmpError {
  return new BmpError('invalid', `BMP: pixel uses palette index ${index} but the palette has ${size} entries`);
}
