import type { GraphBuilder } from '../builder.js';
import type { Value } from '../ir.js';

/** NHWC <-> NCHW around layout-bound ops. onnxruntime's transpose optimiser cancels the pairs between layers. */
export function toNCHW(b: GraphBuilder, x: Value): Value {
  const s = x.shape;
  return b.node('Transpose', [x], { perm: [0, 3, 1, 2] }, { dtype: x.dtype, ...(s && { shape: [s[0]!, s[3]!, s[1]!, s[2]!] }) });
}

export function toNHWC(b: GraphBuilder, x: Value): Value {
  const s = x.shape;
  const out = b.node('Transpose', [x], { perm: [0, 2, 3, 1] }, { dtype: x.dtype, ...(s && { shape: [s[0]!, s[2]!, s[3]!, s[1]!] }) });
  return { ...out, nchw: x };
}

/**
 * A constant that broadcasts per channel (a scalar, [C] or [1,1,1,C]) against an NHWC value, re-shaped for
 * the NCHW side ([1,C,1,1]); undefined when the op must stay in NHWC.
 */
export function perChannelConst(b: GraphBuilder, x: Value, k: Value): Value | undefined {
  if (!x.nchw || !(k.data instanceof Float32Array) || !k.shape || x.shape?.length !== 4) return undefined;
  const channels = x.shape[3];
  const n = k.data.length;
  if (n === 1 && k.shape.length <= 4) return b.constant(k.data, [], `${k.name}/scalar`);
  const perChannel = n === channels && k.shape.length >= 1 && k.shape.slice(0, -1).every((d) => d === 1) && k.shape.length <= 4;
  return perChannel ? b.constant(k.data, [1, n, 1, 1], `${k.name}/nchw`) : undefined;
}

/** Permutes a constant tensor at conversion time (weights never pay a run-time transpose). */
export function permuteConst(data: Float32Array, shape: readonly number[], perm: readonly number[]): { data: Float32Array; shape: number[] } {
  const outShape = perm.map((p) => shape[p]!);
  const rank = shape.length;
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) { inStrides[i] = s; s *= shape[i]!; }
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += idx[d]! * inStrides[perm[d]!]!;
    out[o] = data[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** numpy/TF broadcasting of two known shapes (null where unknown). */
export function broadcastShape(a?: readonly (number | null)[], b?: readonly (number | null)[]): (number | null)[] | undefined {
  if (!a || !b) return undefined;
  const rank = Math.max(a.length, b.length);
  const out: (number | null)[] = [];
  for (let i = 0; i < rank; i++) {
    // A missing leading dimension broadcasts as 1; a null one is unknown and must stay unknown.
    const ai = a.length - rank + i;
    const bi = b.length - rank + i;
    const x = ai < 0 ? 1 : a[ai]!;
    const y = bi < 0 ? 1 : b[bi]!;
    out.push(x === 1 ? y : y === 1 ? x : x ?? y);
  }
  return out;
}
