/**
 * tf.image.cropAndResize on packed 8-bit pixels: a box (in pixels, may reach outside the image) sampled
 * bilinearly onto an out x out grid, black outside the image. The face models were trained on crops made this
 * way (see @vladmandic/human's cutAndResize), so their inputs are made the same way. Pure, no sharp.
 */
export interface Pixels { data: Uint8Array; width: number; height: number; channels: number }
export interface PixelBox { x1: number; y1: number; x2: number; y2: number }

/** Values 0..255 as floats, HWC, with the image's channel count. */
export function cropAndResize(img: Pixels, box: PixelBox, outW: number, outH: number): Float32Array {
  const { data, width, height, channels: c } = img;
  const out = new Float32Array(outW * outH * c);
  // TF maps normalised box edges onto pixel centres 0..size-1; human normalises by size, so do the same.
  const y1 = (box.y1 / height) * (height - 1);
  const y2 = (box.y2 / height) * (height - 1);
  const x1 = (box.x1 / width) * (width - 1);
  const x2 = (box.x2 / width) * (width - 1);
  const sy = outH > 1 ? (y2 - y1) / (outH - 1) : 0;
  const sx = outW > 1 ? (x2 - x1) / (outW - 1) : 0;
  for (let oy = 0; oy < outH; oy++) {
    const y = outH > 1 ? y1 + oy * sy : (y1 + y2) / 2;
    if (y < 0 || y > height - 1) continue;
    const y0 = Math.floor(y);
    const yb = Math.min(height - 1, y0 + 1);
    const fy = y - y0;
    for (let ox = 0; ox < outW; ox++) {
      const x = outW > 1 ? x1 + ox * sx : (x1 + x2) / 2;
      if (x < 0 || x > width - 1) continue;
      const x0 = Math.floor(x);
      const xb = Math.min(width - 1, x0 + 1);
      const fx = x - x0;
      const o = (oy * outW + ox) * c;
      for (let ch = 0; ch < c; ch++) {
        const tl = data[(y0 * width + x0) * c + ch]!;
        const tr = data[(y0 * width + xb) * c + ch]!;
        const bl = data[(yb * width + x0) * c + ch]!;
        const br = data[(yb * width + xb) * c + ch]!;
        const top = tl + (tr - tl) * fx;
        const bottom = bl + (br - bl) * fx;
        out[o + ch] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}
