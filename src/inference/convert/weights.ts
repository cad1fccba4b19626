import { ConvertError, sizeOf, type ConstData } from './ir.js';
import type { WeightSpec } from './graph/tf-types.js';

export interface DecodedWeight { shape: number[]; data: ConstData }

function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** An aligned copy: a Node Buffer's slice() is a view into a shared pool, not a copy. */
function copy(buffer: Uint8Array, offset: number, length: number): ArrayBuffer {
  const out = new Uint8Array(length);
  out.set(buffer.subarray(offset, offset + length));
  return out.buffer;
}

/**
 * Decodes the concatenated weight shards of a TF.js model, undoing uint8/uint16 affine and float16
 * quantisation exactly as tfjs-core's decodeWeights does (value = q * scale + min in float64, stored as float32).
 */
export function decodeWeights(specs: readonly WeightSpec[], buffer: Uint8Array, model: string): Map<string, DecodedWeight> {
  const out = new Map<string, DecodedWeight>();
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let offset = 0;
  for (const spec of specs) {
    const n = sizeOf(spec.shape);
    const q = spec.quantization;
    const bytesPer = q ? (q.dtype === 'uint8' ? 1 : 2) : spec.dtype === 'bool' ? 1 : 4;
    if (spec.dtype === 'string') throw new ConvertError(`model ${model}: string weight ${spec.name} is not supported`);
    if (offset + n * bytesPer > buffer.length) {
      throw new ConvertError(`model ${model}: weight ${spec.name} runs past the end of the weight data`);
    }
    let data: ConstData;
    if (q) {
      const values = spec.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const at = offset + i * bytesPer;
        if (q.dtype === 'float16') values[i] = float16ToFloat32(view.getUint16(at, true));
        else {
          const raw = q.dtype === 'uint8' ? view.getUint8(at) : view.getUint16(at, true);
          const v = raw * q.scale! + q.min!;
          values[i] = spec.dtype === 'int32' ? Math.round(v) : v;
        }
      }
      data = values;
    } else if (spec.dtype === 'float32') {
      data = new Float32Array(copy(buffer, offset, n * 4));
    } else if (spec.dtype === 'int32') {
      data = new Int32Array(copy(buffer, offset, n * 4));
    } else {
      data = new Uint8Array(copy(buffer, offset, n));
    }
    out.set(spec.name, { shape: spec.shape, data });
    offset += n * bytesPer;
  }
  return out;
}
