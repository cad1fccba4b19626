import { ctz } from './header.js';

/** One colour channel of a 16/32-bit pixel: where it sits and how to widen it to 8 bits. */
export interface Channel {
  mask: number;
  shift: number;
  /** Largest raw value (2^bits - 1); 0 when the channel is absent. */
  max: number;
  /** Raw value -> 0..255 for channels of up to 16 bits; wider ones are scaled on the fly. */
  lut: Uint8Array | null;
}

export function makeChannel(mask: number): Channel {
  if (mask === 0) return { mask: 0, shift: 0, max: 0, lut: new Uint8Array(1) };
  const shift = ctz(mask);
  const max = mask >>> shift;
  const bits = 32 - Math.clz32(max);
  let lut: Uint8Array | null = null;
  if (bits <= 16) {
    lut = new Uint8Array(max + 1);
    // Rounding v*255/max (rather than shifting left) makes the top value 255: 5-bit 31 -> 255, not 248.
    for (let v = 0; v <= max; v++) lut[v] = Math.round((v * 255) / max);
  }
  return { mask, shift, max, lut };
}

export function scale(c: Channel, px: number): number {
  const v = (px & c.mask) >>> c.shift;
  return c.lut !== null ? c.lut[v]! : Math.round((v * 255) / c.max);
}
