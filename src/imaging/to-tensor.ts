import type { ImageProbe } from './probe.js';
import { fromSharpError } from './sharp-errors.js';
import { openStill } from './source.js';

export interface TensorSpec {
  /** [height, width] the model takes; null keeps the image (or crop) size. */
  size: [number, number] | null;
  layout: 'nhwc' | 'nchw';
  channels: 1 | 3;
  /** 0..255 maps linearly onto [min, max]. */
  range: [number, number];
  /** fill stretches; contain letterboxes with black, keeping the aspect ratio (offsets are reported). */
  fit?: 'fill' | 'contain';
  /** A region of the upright image to cut out first (e.g. a face box), clamped to the image. */
  crop?: { x: number; y: number; width: number; height: number };
}

export interface Tensor {
  data: Float32Array;
  dims: number[];
  /** Where the image content sits inside the tensor, in tensor pixels, for mapping coordinates back. */
  content: { x: number; y: number; width: number; height: number; scale: number };
}

/**
 * The preprocessing step of every model: crop, resize, colour and normalisation in one sharp pipeline, then a
 * single pass from bytes to floats in the model's layout. Input is the upright first frame in 8-bit sRGB.
 */
export async function toTensor(probe: ImageProbe, spec: TensorSpec): Promise<Tensor> {
  try {
    let img = openStill(probe).flatten({ background: '#000000' });
    let srcW = probe.orientation >= 5 ? probe.height : probe.width;
    let srcH = probe.orientation >= 5 ? probe.width : probe.height;
    if (spec.crop) {
      const left = Math.max(0, Math.min(srcW - 1, Math.round(spec.crop.x)));
      const top = Math.max(0, Math.min(srcH - 1, Math.round(spec.crop.y)));
      const width = Math.max(1, Math.min(srcW - left, Math.round(spec.crop.width)));
      const height = Math.max(1, Math.min(srcH - top, Math.round(spec.crop.height)));
      // autoOrient runs before extract in sharp's pipeline, so the box is in upright coordinates.
      img = img.extract({ left, top, width, height });
      srcW = width;
      srcH = height;
    }
    const [h, w] = spec.size ?? [srcH, srcW];
    let content = { x: 0, y: 0, width: w, height: h, scale: w / srcW };
    if (spec.size) {
      if (spec.fit === 'contain') {
        const scale = Math.min(w / srcW, h / srcH);
        const cw = Math.max(1, Math.round(srcW * scale));
        const ch = Math.max(1, Math.round(srcH * scale));
        content = { x: 0, y: 0, width: cw, height: ch, scale };
        img = img.resize(cw, ch, { fit: 'fill' }).extend({ right: w - cw, bottom: h - ch, background: '#000000' });
      } else {
        img = img.resize(w, h, { fit: 'fill' });
      }
    }
    img = spec.channels === 1 ? img.toColourspace('b-w') : img.toColourspace('srgb');
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const c = info.channels;
    const [min, max] = spec.range;
    const k = (max - min) / 255;
    const plane = w * h;
    const out = new Float32Array(plane * spec.channels);
    if (spec.layout === 'nhwc') {
      for (let i = 0, o = 0; i < data.length; i += c) for (let ch = 0; ch < spec.channels; ch++) out[o++] = data[i + ch]! * k + min;
    } else {
      for (let p = 0, i = 0; p < plane; p++, i += c) for (let ch = 0; ch < spec.channels; ch++) out[ch * plane + p] = data[i + ch]! * k + min;
    }
    const dims = spec.layout === 'nhwc' ? [1, h, w, spec.channels] : [1, spec.channels, h, w];
    return { data: out, dims, content };
  } catch (err) {
    throw fromSharpError(err, probe.format);
  }
}
