/**
 * tf.image.cropAndResize on packed 8-bit pixels: a box (in pixels, may reach outside the image) sampled
 * bilinearly onto an out x out grid, black outside the image. The face models were trained on crops made this
 * way (see @vladmandic/human's cutAndResize), so their inputs are made the same way. Pure, no sharp.
 */
export interface Pixels { data: Uint8Array; width: number; height: number; channels: number }
export interface PixelBox { x1: number; y1: number; x2: number; y2: number }

/**
 * Values 0..255 times `scale` (a model's 0..1 range in the same pass), as floats, HWC (or CHW, one plane per
 * channel, for a model that takes NCHW), with the image's channel count. It runs on the request's thread for
 * every face crop, so the per-column sampling positions are worked out once rather than once per output pixel.
 */
export function cropAndResize(img: Pixels, box: PixelBox, outW: number, outH: number, scale = 1, layout: 'hwc' | 'chw' = 'hwc'): Float32Array {
  const { data, width, height, channels: c } = img;
  const out = new Float32Array(outW * outH * c);
  // Where output pixel p's channel ch goes: p * pixelStep + ch * channelStep.
  const [pixelStep, channelStep] = layout === 'hwc' ? [c, 1] : [1, outW * outH];
  // TF maps normalised box edges onto pixel centres 0..size-1; human normalises by size, so do the same.
  const y1 = (box.y1 / height) * (height - 1);
  const y2 = (box.y2 / height) * (height - 1);
  const x1 = (box.x1 / width) * (width - 1);
  const x2 = (box.x2 / width) * (width - 1);
  const sy = outH > 1 ? (y2 - y1) / (outH - 1) : 0;
  const sx = outW > 1 ? (x2 - x1) / (outW - 1) : 0;
  // Per output column: the left and right source offsets in a row (-1 outside the image) and the weight.
  const left = new Int32Array(outW);
  const right = new Int32Array(outW);
  const fxs = new Float32Array(outW);
  for (let ox = 0; ox < outW; ox++) {
    const x = outW > 1 ? x1 + ox * sx : (x1 + x2) / 2;
    if (x < 0 || x > width - 1) {
      left[ox] = -1;
      continue;
    }
    const x0 = Math.floor(x);
    left[ox] = x0 * c;
    right[ox] = Math.min(width - 1, x0 + 1) * c;
    fxs[ox] = x - x0;
  }
  for (let oy = 0; oy < outH; oy++) {
    const y = outH > 1 ? y1 + oy * sy : (y1 + y2) / 2;
    if (y < 0 || y > height - 1) continue;
    const y0 = Math.floor(y);
    const top = y0 * width * c;
    const bottom = Math.min(height - 1, y0 + 1) * width * c;
    const fy = y - y0;
    let o = oy * outW * pixelStep;
    for (let ox = 0; ox < outW; ox++, o += pixelStep) {
      const l = left[ox]!;
      if (l < 0) continue;
      const r = right[ox]!;
      const fx = fxs[ox]!;
      for (let ch = 0; ch < c; ch++) {
        const tl = data[top + l + ch]!;
        const tr = data[top + r + ch]!;
        const bl = data[bottom + l + ch]!;
        const br = data[bottom + r + ch]!;
        const t = tl + (tr - tl) * fx;
        const b = bl + (br - bl) * fx;
        out[o + ch * channelStep] = (t + (b - t) * fy) * scale;
      }
    }
  }
  return out;
}
