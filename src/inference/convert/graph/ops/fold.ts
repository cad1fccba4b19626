import type { GraphBuilder } from '../../builder.js';
import { toNumbers, type DType, type Value } from '../../ir.js';
import type { OpContext } from '../context.js';

/**
 * Conversion-time evaluation. TF graphs compute shapes at run time (Shape -> StridedSlice -> Pack -> Reshape);
 * evaluating those chains here keeps them out of the ONNX graph and gives downstream handlers exact shapes.
 */

/**
 * One element of a small int tensor known at conversion time: a number, "dimension `axis` of value `of`"
 * (a batch size that only the run time knows, but whose origin we do), or nothing known.
 */
export type Dim = number | { readonly of: string; readonly axis: number } | null;

/** A tensor evaluated at conversion time, as plain JS values in row-major order. */
export interface Host<T = number> {
  dtype: DType;
  shape: number[];
  values: T[];
}

/** Elements of run-time int tensors that are still partly known (the result of Shape on a null batch). */
const partials = new WeakMap<Value, Dim[]>();

/** Folding arrays of weights would only move bytes around; shape arithmetic is far below this. */
export const maxFold = 1 << 16;

export const isInt = (dtype: DType): boolean => dtype === 'int32' || dtype === 'int64';

/** A constant as plain numbers; undefined for weights-sized tensors, which are never folded. */
export function host(v: Value): Host | undefined {
  if (!v.data || v.data.length > maxFold || !v.shape || v.shape.some((d) => d === null)) return undefined;
  return { dtype: v.dtype, shape: v.shape as number[], values: toNumbers(v.data) };
}

/** A constant or a partly known run-time int tensor, element by element. */
export function dims(v: Value): Host<Dim> | undefined {
  const h = host(v);
  if (h) return h;
  const p = partials.get(v);
  return p && v.shape ? { dtype: v.dtype, shape: v.shape as number[], values: p } : undefined;
}

export function allKnown(h: Host<Dim>): h is Host<number> {
  return h.values.every((d) => typeof d === 'number');
}

/** A constant under a new shape, reusing its bytes: reshapes of weights cost nothing. */
export function reshapedConst(b: GraphBuilder, v: Value, shape: readonly (number | null)[], hint: string): Value | undefined {
  if (!v.data || shape.includes(null)) return undefined;
  return { ...b.constant(v.data, shape as number[], hint), dtype: v.dtype };
}

export function constOf(b: GraphBuilder, h: Host, hint: string): Value {
  const { dtype, shape, values } = h;
  switch (dtype) {
    case 'float32': return b.constant(Float32Array.from(values), shape, hint);
    case 'int32': return b.constant(Int32Array.from(values), shape, hint);
    case 'int64': return b.constant(BigInt64Array.from(values, (v) => BigInt(Math.trunc(v))), shape, hint);
    default: return { ...b.constant(Uint8Array.from(values), shape, hint), dtype };
  }
}

/**
 * The result of an op evaluated on Dim elements: a constant when everything is known. When only part is
 * known the run-time nodes are deferred until something reads the value's name: a chain such as
 * Shape -> StridedSlice -> Pack whose only consumer is a Reshape that folds its target leaves no dead nodes.
 */
export function settle(ctx: OpContext, h: Host<Dim> | undefined, emit: () => Value): Value {
  if (h && allKnown(h) && h.values.length <= maxFold) return constOf(ctx.b, h, ctx.node.name);
  if (!h || !isInt(h.dtype) || h.values.length > maxFold || h.values.every((d) => d === null)) return emit();
  let real: Value | undefined;
  const lazy: Value = {
    dtype: h.dtype,
    shape: h.shape,
    get name() {
      real ??= emit();
      return real.name;
    },
  };
  partials.set(lazy, h.values);
  return lazy;
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]!; }
  return s;
}

/** Builds an output of `shape` whose element at each index is read from `src` at the flat index `from(idx)`. */
export function remap<T>(src: Host<T>, shape: readonly number[], from: (idx: number[]) => number): Host<T> {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Array<T>(n);
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < n; o++) {
    values[o] = src.values[from(idx)]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return { dtype: src.dtype, shape: [...shape], values };
}

export function concatHosts<T>(parts: readonly Host<T>[], axis: number): Host<T> {
  const first = parts[0]!;
  const outer = first.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = first.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const values: T[] = [];
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const chunk = p.shape[axis]! * inner;
      for (let i = 0; i < chunk; i++) values.push(p.values[o * chunk + i]!);
    }
  }
  const shape = [...first.shape];
  shape[axis] = parts.reduce((s, p) => s + p.shape[axis]!, 0);
  return { dtype: first.dtype, shape, values };
}

export function transposeHost<T>(h: Host<T>, perm: readonly number[]): Host<T> {
  const st = stridesOf(h.shape);
  return remap(h, perm.map((p) => h.shape[p]!), (idx) => idx.reduce((s, i, d) => s + i * st[perm[d]!]!, 0));
}

export function gatherHost<T>(h: Host<T>, indices: Host, axis: number): Host<T> {
  const st = stridesOf(h.shape);
  const shape = [...h.shape.slice(0, axis), ...indices.shape, ...h.shape.slice(axis + 1)];
  const r = indices.shape.length;
  const ist = stridesOf(indices.shape);
  return remap(h, shape, (idx) => {
    let k = 0;
    for (let j = 0; j < r; j++) k += idx[axis + j]! * ist[j]!;
    let at = indices.values[k]!;
    if (at < 0) at += h.shape[axis]!;
    let src = 0;
    for (let d = 0; d < axis; d++) src += idx[d]! * st[d]!;
    src += at * st[axis]!;
    for (let d = axis + 1; d < h.shape.length; d++) src += idx[d + r - 1]! * st[d]!;
    return src;
  });
}

/** Elements `start + i * step` along every axis: the core of Slice, StridedSlice and Split folding. */
export function sliceHost<T>(h: Host<T>, start: readonly number[], size: readonly number[], step: readonly number[]): Host<T> {
  const st = stridesOf(h.shape);
  return remap(h, size, (idx) => idx.reduce((s, i, d) => s + (start[d]! + i * step[d]!) * st[d]!, 0));
}

/** int64 for ONNX shape-like inputs: constants are re-emitted directly, run-time int32 values are cast. */
export function asInt64(b: GraphBuilder, v: Value): Value {
  if (v.data) return b.int64s(toNumbers(v.data), (v.shape ?? []) as number[]);
  if (v.dtype === 'int64') return v;
  return b.node('Cast', [v], { to: 7 }, { dtype: 'int64', ...(v.shape && { shape: v.shape }) });
}

/** TF's int32/int64 arithmetic on constants. Results wrap like int32 when stored back. */
export function arith(op: string, a: number, c: number): number {
  switch (op) {
    case 'Add': case 'AddV2': return a + c;
    case 'Sub': return a - c;
    case 'Mul': return a * c;
    case 'FloorDiv': return Math.floor(a / c);
    case 'Maximum': return Math.max(a, c);
    case 'Minimum': return Math.min(a, c);
    default: throw new Error(`no folding for ${op}`);
  }
}

/** Numpy broadcasting of two evaluated tensors. */
export function broadcastHosts(op: string, x: Host<Dim>, y: Host<Dim>): Host<Dim> {
  const rank = Math.max(x.shape.length, y.shape.length);
  const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const xs = pad(x.shape);
  const ys = pad(y.shape);
  const shape = xs.map((d, i) => (d === 1 ? ys[i]! : d));
  const xst = stridesOf(xs);
  const yst = stridesOf(ys);
  const values = new Array<Dim>(shape.reduce((a, b) => a * b, 1));
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < values.length; o++) {
    let xi = 0;
    let yi = 0;
    for (let d = 0; d < rank; d++) {
      if (xs[d] !== 1) xi += idx[d]! * xst[d]!;
      if (ys[d] !== 1) yi += idx[d]! * yst[d]!;
    }
    const a = x.values[xi]!;
    const c = y.values[yi]!;
    values[o] = typeof a === 'number' && typeof c === 'number' ? arith(op, a, c) : null;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return { dtype: x.dtype, shape, values };
}
