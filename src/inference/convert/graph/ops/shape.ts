import { sizeOf, type DType, type Value } from '../../ir.js';
import type { OpContext, OpHandler } from '../context.js';
import { elementwiseHandlers } from './elementwise.js';
import {
  allKnown, asInt64, broadcastHosts, concatHosts, constOf, dims, gatherHost, host, isInt, maxFold, remap, reshapedConst, settle, stridesOf, transposeHost,
  type Dim, type Host,
} from './fold.js';
import { sliceHandlers, squeeze, unsqueeze } from './slice.js';

type Shape = readonly (number | null)[];

const onnxTypes: Record<DType, number> = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9 };

function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function out(dtype: DType, shape: Shape | undefined) {
  return { dtype, ...(shape && { shape }) };
}

/** What an int vector's elements say about a shape: known sizes, null where only the run time knows. */
function asShape(h: Host<Dim>): (number | null)[] {
  return h.values.map((d) => (typeof d === 'number' ? d : null));
}

const shapeOp: OpHandler = (ctx) => {
  const x = ctx.input(0);
  const dtype: DType = ctx.node.attr?.out_type?.type === 'DT_INT64' ? 'int64' : 'int32';
  const values: Dim[] | undefined = x.shape?.map((d, axis) => d ?? { of: x.name, axis });
  const h = values && { dtype, shape: [values.length], values };
  return settle(ctx, h, () => {
    const s = ctx.b.node('Shape', [x], {}, out('int64', [x.shape?.length ?? null]));
    return dtype === 'int64' ? s : ctx.b.node('Cast', [s], { to: 6 }, out('int32', s.shape));
  });
};

const size: OpHandler = (ctx) => {
  const x = ctx.input(0);
  const dtype: DType = ctx.node.attr?.out_type?.type === 'DT_INT64' ? 'int64' : 'int32';
  const known = x.shape && !x.shape.includes(null) ? [sizeOf(x.shape as number[])] : undefined;
  return settle(ctx, known && { dtype, shape: [], values: known }, () => {
    const s = ctx.b.node('Size', [x], {}, out('int64', []));
    return dtype === 'int64' ? s : ctx.b.node('Cast', [s], { to: 6 }, out('int32', []));
  });
};

/**
 * TF Reshape with a target that may be only partly known. An element that is "dimension i of this very
 * input" at position i becomes ONNX's 0 (copy), one other unknown becomes -1, so the usual
 * Shape -> StridedSlice -> Pack -> Reshape chain on a null batch still ends in a constant target.
 */
const reshape: OpHandler = (ctx) => {
  const { b } = ctx;
  const x = ctx.input(0);
  const target = dims(ctx.input(1));
  if (!target) {
    const rank = ctx.input(1).shape?.[0];
    const shape = typeof rank === 'number' ? new Array<null>(rank).fill(null) : undefined;
    return b.node('Reshape', [x, asInt64(b, ctx.input(1))], {}, out(x.dtype, shape));
  }
  const els = target.values.map((d, i) => (typeof d === 'number' ? d : d && d.of === x.name && d.axis === i ? 'copy' : null));
  const unknown = els.filter((e) => e === null).length;
  const minus = els.filter((e) => e === -1).length;
  const literalZero = els.includes(0);
  const inShape = x.shape;
  // -1 is the input size divided by everything else; copied dims cancel out.
  let resolved: number | null = null;
  if (inShape && unknown === 0) {
    const rest = inShape.filter((_, i) => els[i] !== 'copy');
    const others = els.filter((e): e is number => typeof e === 'number' && e !== -1);
    if (!rest.includes(null)) resolved = sizeOf(rest as number[]) / Math.max(1, sizeOf(others));
  }
  const shape = els.map((e, i) => (e === 'copy' ? inShape?.[i] ?? null : e === null ? null : e === -1 ? resolved : e));
  const emit = (): Value => {
    if (literalZero || unknown > 1 || (unknown === 1 && minus === 1)) {
      return b.node('Reshape', [x, asInt64(b, ctx.input(1))], literalZero ? { allowzero: 1 } : {}, out(x.dtype, shape));
    }
    const spec = els.map((e) => (e === 'copy' ? 0 : e === null ? -1 : e));
    return b.node('Reshape', [x, b.int64s(spec)], {}, out(x.dtype, shape));
  };
  const h = dims(x);
  if (!h && x.data) return reshapedConst(b, x, shape, ctx.node.name) ?? emit();
  return settle(ctx, h && !shape.includes(null) ? { ...h, shape: shape as number[] } : undefined, emit);
};

function expandShape(shape: Shape, axis: number): (number | null)[] {
  return [...shape.slice(0, axis), 1, ...shape.slice(axis)];
}

const expandDims: OpHandler = (ctx) => {
  const x = ctx.input(0);
  if (!x.shape) return ctx.fail('the input rank must be known');
  const axis = norm(ctx.constInts(1)[0]!, x.shape.length + 1);
  const h = dims(x);
  const emit = () => reshapedConst(ctx.b, x, expandShape(x.shape!, axis), ctx.node.name) ?? unsqueeze(ctx.b, x, [axis]);
  return settle(ctx, h && { ...h, shape: expandShape(h.shape, axis) as number[] }, emit);
};

const squeezeOp: OpHandler = (ctx) => {
  const x = ctx.input(0);
  if (!x.shape) return ctx.fail('the input rank must be known');
  const rank = x.shape.length;
  let axes = ctx.ints('squeeze_dims', ctx.ints('axis', [])).map((a) => norm(a, rank));
  if (axes.length === 0) {
    if (x.shape.includes(null)) ctx.fail('squeezing every size-1 dimension needs a fully known shape');
    axes = x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  }
  const h = dims(x);
  const kept = (s: Shape) => s.filter((_, i) => !axes.includes(i));
  const emit = () => reshapedConst(ctx.b, x, kept(x.shape!), ctx.node.name) ?? squeeze(ctx.b, x, axes.sort((a, c) => a - c));
  return settle(ctx, h && { ...h, shape: kept(h.shape) as number[] }, emit);
};

function concatShape(shapes: readonly (Shape | undefined)[], axis: number): (number | null)[] | undefined {
  if (shapes.some((s) => !s)) return undefined;
  const first = shapes[0]!;
  return first.map((_, i) => {
    if (i === axis) return shapes.some((s) => s![i] === null) ? null : shapes.reduce((n, s) => n + s![i]!, 0);
    return shapes.map((s) => s![i]).find((d) => d !== null) ?? null;
  });
}

function concat(ctx: OpContext, xs: readonly Value[], axis: number): Value {
  const hs = xs.map(dims);
  const h = hs.every((v) => v !== undefined) ? concatHosts(hs as Host<Dim>[], axis) : undefined;
  return settle(ctx, h, () => ctx.b.node('Concat', xs, { axis }, out(xs[0]!.dtype, concatShape(xs.map((x) => x.shape), axis))));
}

const concatV2: OpHandler = (ctx) => {
  const xs = ctx.inputs.slice(0, -1);
  const rank = xs[0]?.shape?.length ?? ctx.fail('the input rank must be known');
  return concat(ctx, xs, norm(ctx.constInts(ctx.inputs.length - 1)[0]!, rank));
};

const pack: OpHandler = (ctx) => {
  const rank = ctx.rank(0);
  const axis = norm(ctx.int('axis', 0), rank + 1);
  const parts = ctx.inputs.map((x) => {
    const h = dims(x);
    return settle(ctx, h && { ...h, shape: expandShape(h.shape, axis) as number[] }, () => unsqueeze(ctx.b, x, [axis]));
  });
  return concat(ctx, parts, axis);
};

const transpose: OpHandler = (ctx) => {
  const x = ctx.input(0);
  const perm = ctx.constInts(1);
  const h = dims(x);
  const shape = x.shape && perm.map((p) => x.shape![p]!);
  return settle(ctx, h && transposeHost(h, perm), () => ctx.b.node('Transpose', [x], { perm }, out(x.dtype, shape)));
};

const gatherV2: OpHandler = (ctx) => {
  const [params, indices] = [ctx.input(0), ctx.input(1)];
  if (ctx.int('batch_dims', 0) !== 0) ctx.fail('batch_dims other than 0 is not supported');
  const rank = params.shape?.length ?? ctx.fail('the input rank must be known');
  const axis = norm(ctx.constInts(2)[0]!, rank);
  const h = dims(params);
  const idx = host(indices);
  const shape = indices.shape && [...params.shape!.slice(0, axis), ...indices.shape, ...params.shape!.slice(axis + 1)];
  return settle(ctx, h && idx && gatherHost(h, idx, axis), () => ctx.b.node('Gather', [params, indices], { axis }, out(params.dtype, shape)));
};

const gatherNd: OpHandler = (ctx) => {
  const [params, indices] = [ctx.input(0), ctx.input(1)];
  const k = indices.shape?.at(-1);
  const shape = indices.shape && typeof k === 'number' && params.shape ? [...indices.shape.slice(0, -1), ...params.shape.slice(k)] : undefined;
  return ctx.b.node('GatherND', [params, asInt64(ctx.b, indices)], {}, out(params.dtype, shape));
};

/** Fill / BroadcastTo: Expand of a value to a shape; folded when small and known. */
function expandTo(ctx: OpContext, x: Value, shapeValue: Value): Value {
  const target = dims(shapeValue);
  const rank = shapeValue.shape?.[0];
  const shape = target ? asShape(target) : typeof rank === 'number' ? new Array<null>(rank).fill(null) : undefined;
  const hx = host(x);
  let folded: Host | undefined;
  if (hx && target && allKnown(target) && sizeOf(target.values) <= maxFold) {
    const t = target.values;
    const padded = [...new Array<number>(t.length - hx.shape.length).fill(1), ...hx.shape];
    const st = stridesOf(padded);
    folded = remap(hx, t, (idx) => idx.reduce((s, i, d) => s + (padded[d] === 1 ? 0 : i * st[d]!), 0));
  }
  return settle(ctx, folded, () => ctx.b.node('Expand', [x, asInt64(ctx.b, shapeValue)], {}, out(x.dtype, shape)));
}

const range: OpHandler = (ctx) => {
  const [start, limit, delta] = [ctx.input(0), ctx.input(1), ctx.input(2)];
  const dtype = start.dtype;
  const [s, l, d] = [host(start), host(limit), host(delta)].map((h) => h?.values[0]);
  const n = s !== undefined && l !== undefined && d !== undefined ? Math.max(0, Math.ceil((l - s) / d)) : null;
  const h = n === null ? undefined : { dtype, shape: [n], values: Array.from({ length: n }, (_, i) => s! + i * d!) };
  return settle(ctx, h, () => ctx.b.node('Range', [start, limit, delta], {}, out(dtype, [n])));
};

function castTo(ctx: OpContext): DType {
  // TF.js has no int64: it computes int64 graphs in int32, and their constants arrive as int32.
  const t = ctx.dtype('DstT');
  return t === 'int64' ? 'int32' : t;
}

const cast: OpHandler = (ctx) => {
  const x = ctx.input(0);
  const to = castTo(ctx);
  if (to === x.dtype) return x;
  const h = dims(x);
  const convert = (d: Dim): Dim => {
    if (typeof d !== 'number') return isInt(to) && isInt(x.dtype) ? d : null;
    if (to === 'bool') return d !== 0 ? 1 : 0;
    return isInt(to) || to === 'uint8' ? Math.trunc(d) : d;
  };
  return settle(ctx, h && { dtype: to, shape: h.shape, values: h.values.map(convert) }, () => ctx.b.node('Cast', [x], { to: onnxTypes[to] }, out(to, x.shape)));
};

function filled(value: number): OpHandler {
  return (ctx) => {
    const x = ctx.input(0);
    const { b } = ctx;
    const known = x.shape && !x.shape.includes(null);
    const shapeValue = known ? b.int64s(x.shape as number[]) : b.node('Shape', [x], {}, out('int64', [x.shape?.length ?? null]));
    return b.node('Expand', [constOf(b, { dtype: x.dtype, shape: [], values: [value] }, ctx.node.name), shapeValue], {}, out(x.dtype, x.shape));
  };
}

function pad(ctx: OpContext, mode: string, value: Value | null): Value {
  const { b } = ctx;
  const x = ctx.input(0);
  const p = host(ctx.input(1));
  if (!p) {
    const pairs = b.node('Transpose', [asInt64(b, ctx.input(1))], { perm: [1, 0] }, out('int64', [2, null]));
    const pads = b.node('Reshape', [pairs, b.int64s([-1])], {}, out('int64', [null]));
    return b.node('Pad', [x, pads, value], { mode }, out(x.dtype, x.shape?.map(() => null)));
  }
  const before = p.values.filter((_, i) => i % 2 === 0);
  const after = p.values.filter((_, i) => i % 2 === 1);
  if (p.values.every((v) => v === 0)) return x;
  const shape = x.shape?.map((d, i) => (d === null ? null : d + before[i]! + after[i]!));
  return b.node('Pad', [x, b.int64s([...before, ...after]), value], { mode }, out(x.dtype, shape));
}

const mirrorPad: OpHandler = (ctx) => {
  const mode = ctx.str('mode');
  // ONNX reflect is TF REFLECT; TF SYMMETRIC (edge repeated) has no ONNX mode.
  if (mode !== 'REFLECT') ctx.fail(`MirrorPad mode ${mode} is not supported`);
  return pad(ctx, 'reflect', null);
};

const tile: OpHandler = (ctx) => {
  const x = ctx.input(0);
  const m = dims(ctx.input(1));
  const shape = x.shape?.map((d, i) => {
    const k = m?.values[i];
    return d !== null && typeof k === 'number' ? d * k : null;
  });
  return ctx.b.node('Tile', [x, asInt64(ctx.b, ctx.input(1))], {}, out(x.dtype, shape));
};

/**
 * SparseToDense. In nanodet every input is a constant (tfjs-converter froze an ONNX-exported graph), so it
 * folds; otherwise it scatters into the default-filled output with ScatterND.
 */
const sparseToDense: OpHandler = (ctx) => {
  const { b } = ctx;
  const [indices, shapeV, values, fill] = [ctx.input(0), ctx.input(1), ctx.input(2), ctx.input(3)];
  const shape = host(shapeV)?.values ?? ctx.fail('the output shape must be a constant');
  const rank = shape.length;
  const [hi, hv, hf] = [host(indices), host(values), host(fill)];
  if (hi && hv && hf && sizeOf(shape) <= maxFold) {
    const st = stridesOf(shape);
    const result = new Array<number>(sizeOf(shape)).fill(hf.values[0]!);
    const n = hi.shape.length === 0 ? 1 : hi.shape[0]!;
    for (let k = 0; k < n; k++) {
      let at = 0;
      for (let d = 0; d < rank; d++) at += hi.values[k * (hi.shape.length === 2 ? rank : 1) + d]! * st[d]!;
      result[at] = hv.shape.length === 0 ? hv.values[0]! : hv.values[k]!;
    }
    return constOf(b, { dtype: values.dtype, shape, values: result }, ctx.node.name);
  }
  const n = indices.shape?.length === 0 ? 1 : indices.shape?.[0];
  if (typeof n !== 'number') return ctx.fail('the number of sparse indices must be known');
  const idx = b.node('Reshape', [asInt64(b, indices), b.int64s([n, rank])], {}, out('int64', [n, rank]));
  const updates = values.shape?.length === 0 ? b.node('Expand', [values, b.int64s([n])], {}, out(values.dtype, [n])) : values;
  const data = b.node('Expand', [fill, b.int64s(shape)], {}, out(values.dtype, shape));
  return b.node('ScatterND', [data, idx, updates], {}, out(values.dtype, shape));
};

/** Integer arithmetic on shapes folds; everything else is the elementwise handler's. */
function foldingArith(op: string): OpHandler {
  const fallback = elementwiseHandlers[op] ?? ((ctx: OpContext) => ctx.fail('no elementwise handler'));
  return (ctx) => {
    const [a, c] = [ctx.input(0), ctx.input(1)];
    const ha = isInt(a.dtype) ? dims(a) : undefined;
    const hc = isInt(c.dtype) ? dims(c) : undefined;
    if (!ha || !hc) return fallback(ctx);
    return settle(ctx, broadcastHosts(op, ha, hc), () => fallback(ctx) as Value);
  };
}

export const shapeHandlers: Record<string, OpHandler> = {
  ...sliceHandlers,
  Shape: shapeOp,
  Size: size,
  Reshape: reshape,
  ExpandDims: expandDims,
  Squeeze: squeezeOp,
  ConcatV2: concatV2,
  Pack: pack,
  Transpose: transpose,
  GatherV2: gatherV2,
  GatherNd: gatherNd,
  Fill: (ctx) => expandTo(ctx, ctx.input(1), ctx.input(0)),
  BroadcastTo: (ctx) => expandTo(ctx, ctx.input(0), ctx.input(1)),
  Range: range,
  Cast: cast,
  ZerosLike: filled(0),
  OnesLike: filled(1),
  Pad: (ctx) => pad(ctx, 'constant', null),
  PadV2: (ctx) => pad(ctx, 'constant', ctx.input(2)),
  MirrorPad: mirrorPad,
  Tile: tile,
  SparseToDense: sparseToDense,
  ...Object.fromEntries(['Add', 'AddV2', 'Sub', 'Mul', 'FloorDiv', 'Maximum', 'Minimum'].map((op) => [op, foldingArith(op)])),
};
