import type { GraphBuilder } from '../../builder.js';
import type { Value } from '../../ir.js';
import type { OpContext, OpHandler } from '../context.js';
import { toNCHW, toNHWC } from '../layout.js';
import { dims, settle, sliceHost, type Dim, type Host } from './fold.js';

/** "To the end" for ONNX Slice, which clamps; any value past every real dimension works. */
export const BIG = Number.MAX_SAFE_INTEGER;
type Shape = readonly (number | null)[];

function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

export function squeeze(b: GraphBuilder, x: Value, axes: readonly number[]): Value {
  if (axes.length === 0) return x;
  const shape = x.shape?.filter((_, i) => !axes.includes(i));
  return b.node('Squeeze', [x, b.int64s(axes)], {}, { dtype: x.dtype, ...(shape && { shape }) });
}

/** `axes` are positions in the output, as for ONNX Unsqueeze. */
export function unsqueeze(b: GraphBuilder, x: Value, axes: readonly number[]): Value {
  if (axes.length === 0) return x;
  let shape: (number | null)[] | undefined;
  if (x.shape) {
    const rest = [...x.shape];
    shape = Array.from({ length: x.shape.length + axes.length }, (_, i) => (axes.includes(i) ? 1 : rest.shift()!));
  }
  return b.node('Unsqueeze', [x, b.int64s(axes)], {}, { dtype: x.dtype, ...(shape && { shape }) });
}

/** One axis of a slice: ONNX Slice's start/stop/step plus the resulting size (null when only the run time knows). */
interface Axis { start: number; stop: number; step: number; size: number | null; whole: boolean }

function sliceNode(b: GraphBuilder, x: Value, axes: readonly Axis[]): Value {
  const picked = axes.map((a, i) => [a, i] as const).filter(([a]) => !a.whole);
  const shape = axes.map((a) => a.size);
  if (picked.length === 0) return x;
  return b.node('Slice', [
    x,
    b.int64s(picked.map(([a]) => a.start)),
    b.int64s(picked.map(([a]) => a.stop)),
    b.int64s(picked.map(([, i]) => i)),
    b.int64s(picked.map(([a]) => a.step)),
  ], {}, { dtype: x.dtype, shape });
}

/** Folds when the input is evaluated and every size is known, else emits Slice. */
function sliceOrFold(ctx: OpContext, x: Value, axes: readonly Axis[]): { value?: Value; host?: Host<Dim> } {
  const h = dims(x);
  if (h && axes.every((a) => a.size !== null)) {
    return { host: sliceHost(h, axes.map((a) => a.start), axes.map((a) => a.size!), axes.map((a) => a.step)) };
  }
  return { value: sliceNode(ctx.b, x, axes) };
}

function withShape(h: Host<Dim>, shape: number[]): Host<Dim> {
  return { ...h, shape };
}

const NEW_AXIS = -1;
const SHRINK = -2;

interface Dense { begin: number[]; end: number[]; strides: number[]; beginMask: number; endMask: number; shrink: number; gather: number[] }

/** TF's sparse-to-dense slice spec (strided_slice_op.cc BuildDenseSpec): expands the ellipsis, places new axes. */
function denseSpec(ctx: OpContext, rank: number, begin: number[], end: number[], strides: number[]): Dense {
  let ellipsis = ctx.int('ellipsis_mask', 0);
  const newAxis = ctx.int('new_axis_mask', 0);
  const bit = (m: number, i: number) => (m & (1 << i)) !== 0;
  let sparse = begin.length;
  let addAfter = 0;
  let seen = false;
  for (let i = 0; i < sparse; i++) {
    if (seen && bit(newAxis, i)) addAfter++;
    if (bit(ellipsis, i)) seen = true;
  }
  if (!seen) ellipsis |= 1 << sparse++;
  const d: Dense = { begin: [], end: [], strides: [], beginMask: 0, endMask: 0, shrink: 0, gather: [] };
  let full = 0;
  for (let i = 0; i < sparse; i++) {
    if (bit(ellipsis, i)) {
      const next = Math.min(rank - (sparse - i) + 1 + addAfter, rank);
      for (; full < next; full++) {
        d.begin[full] = 0; d.end[full] = 0; d.strides[full] = 1;
        d.beginMask |= 1 << full; d.endMask |= 1 << full;
        d.gather.push(full);
      }
    } else if (bit(newAxis, i)) {
      d.gather.push(NEW_AXIS);
    } else {
      if (full >= rank) ctx.fail(`the slice has more dimensions than the input (rank ${rank})`);
      d.begin[full] = begin[i]!; d.end[full] = end[i]!; d.strides[full] = strides[i]!;
      if (bit(ctx.int('begin_mask', 0), i)) d.beginMask |= 1 << full;
      if (bit(ctx.int('end_mask', 0), i)) d.endMask |= 1 << full;
      if (bit(ctx.int('shrink_axis_mask', 0), i)) { d.shrink |= 1 << full; d.gather.push(SHRINK); }
      else d.gather.push(full);
      full++;
    }
  }
  return d;
}

/** One dense axis, canonicalised like TF when its size is known and left to ONNX's identical clamping when not. */
function stridedAxis(ctx: OpContext, d: Dense, i: number, dim: number | null): Axis {
  const step = d.strides[i]!;
  if (step === 0) ctx.fail(`stride ${i} is zero`);
  const b = d.begin[i]!;
  const beginMasked = (d.beginMask & (1 << i)) !== 0;
  const endMasked = (d.endMask & (1 << i)) !== 0;
  if (d.shrink & (1 << i)) {
    if (step < 0) ctx.fail('a shrink axis needs a positive stride');
    if (dim === null) return { start: b, stop: b === -1 ? BIG : b + 1, step: 1, size: 1, whole: false };
    const at = b < 0 ? b + dim : b;
    if (at < 0 || at >= dim) ctx.fail(`slice index ${b} is out of bounds for dimension ${i} of size ${dim}`);
    return { start: at, stop: at + 1, step: 1, size: 1, whole: dim === 1 };
  }
  if (dim === null) {
    return {
      start: beginMasked ? (step > 0 ? 0 : BIG) : b,
      stop: endMasked ? (step > 0 ? BIG : -BIG) : d.end[i]!,
      step,
      size: null,
      whole: beginMasked && endMasked && step === 1,
    };
  }
  const lo = step > 0 ? 0 : -1;
  const hi = step > 0 ? dim : dim - 1;
  const canonical = (x: number, masked: boolean, isEnd: boolean) => {
    if (masked) return step > 0 ? (isEnd ? hi : lo) : (isEnd ? lo : hi);
    const fwd = x < 0 ? x + dim : x;
    return Math.min(Math.max(fwd, lo), hi);
  };
  const start = canonical(b, beginMasked, false);
  const stop = canonical(d.end[i]!, endMasked, true);
  const len = stop - start;
  const size = len === 0 || (len < 0) !== (step < 0) ? 0 : Math.ceil(Math.abs(len) / Math.abs(step));
  if (size === 0) return { start: 0, stop: 0, step: 1, size: 0, whole: dim === 0 };
  // ONNX reads a negative stop as counted from the end, TF's canonical -1 means "before element 0".
  return { start, stop: stop < 0 ? -BIG : stop, step, size, whole: step === 1 && start === 0 && stop === dim };
}

const stridedSlice: OpHandler = (ctx) => {
  const x = ctx.input(0);
  if (!x.shape) return ctx.fail('the input rank must be known');
  const begin = ctx.constInts(1);
  const end = ctx.constInts(2);
  const strides = ctx.constInts(3);
  const d = denseSpec(ctx, x.shape.length, begin, end, strides);
  const axes = x.shape.map((dim, i) => stridedAxis(ctx, d, i, dim));
  const processing: Shape = axes.map((a, i) => (a.whole ? x.shape![i]! : a.size));
  const finalShape = d.gather.filter((g) => g !== SHRINK).map((g) => (g === NEW_AXIS ? 1 : processing[g]!));
  const { value, host } = sliceOrFold(ctx, x, axes);
  const folded = host && withShape(host, finalShape as number[]);
  return settle(ctx, folded, () => {
    const shrinkAxes = axes.flatMap((_, i) => (d.shrink & (1 << i) ? [i] : []));
    const newAxes = d.gather.filter((g) => g !== SHRINK).flatMap((g, i) => (g === NEW_AXIS ? [i] : []));
    const sliced = value ?? sliceNode(ctx.b, x, axes);
    return unsqueeze(ctx.b, squeeze(ctx.b, sliced, shrinkAxes), newAxes);
  });
};

/** TF Slice: begin and size, where size -1 means "to the end". */
const slice: OpHandler = (ctx) => {
  const x = ctx.input(0);
  if (!x.shape) return ctx.fail('the input rank must be known');
  const begin = ctx.constInts(1);
  const size = ctx.constInts(2);
  const axes = x.shape.map((dim, i): Axis => {
    const start = begin[i]!;
    const n = size[i]!;
    const known = n === -1 ? (dim === null ? null : dim - start) : n;
    return { start, stop: n === -1 ? BIG : start + n, step: 1, size: known, whole: start === 0 && (n === -1 || n === dim) };
  });
  const { value, host } = sliceOrFold(ctx, x, axes);
  return settle(ctx, host, () => value ?? sliceNode(ctx.b, x, axes));
};

/** Pieces of `sizes` along `axis`; sizes are known here (TF needs them to build the outputs). */
function splitInto(ctx: OpContext, x: Value, axis: number, sizes: readonly number[]): Value[] {
  const shape = x.shape!;
  const h = dims(x);
  let nodes: Value[] | undefined;
  const emit = (k: number) => {
    const outs = sizes.map((n) => ({ dtype: x.dtype, shape: shape.map((s, i) => (i === axis ? n : s)) }));
    nodes ??= ctx.b.nodeN('Split', [x, ctx.b.int64s(sizes)], { axis }, outs);
    return nodes[k]!;
  };
  let at = 0;
  return sizes.map((n, k) => {
    const start = shape.map((_, i) => (i === axis ? at : 0));
    at += n;
    const piece = h && sliceHost(h, start, h.shape.map((s, i) => (i === axis ? n : s)), start.map(() => 1));
    return settle(ctx, piece, () => emit(k));
  });
}

const split: OpHandler = (ctx) => {
  const x = ctx.input(1);
  if (!x.shape) return ctx.fail('the input rank must be known');
  const axis = norm(ctx.constInts(0)[0]!, x.shape.length);
  const num = ctx.int('num_split');
  const dim = x.shape[axis];
  if (dim === null || dim === undefined) {
    const outs = Array.from({ length: num }, () => ({ dtype: x.dtype, shape: x.shape!.map((s, i) => (i === axis ? null : s)) }));
    return ctx.b.nodeN('Split', [x], { axis }, outs);
  }
  if (dim % num !== 0) ctx.fail(`dimension ${dim} does not split into ${num} equal parts`);
  return splitInto(ctx, x, axis, new Array<number>(num).fill(dim / num));
};

const splitV: OpHandler = (ctx) => {
  const x = ctx.input(0);
  if (!x.shape) return ctx.fail('the input rank must be known');
  const axis = norm(ctx.constInts(2)[0]!, x.shape.length);
  const sizes = ctx.constInts(1);
  const open = sizes.indexOf(-1);
  if (open >= 0) {
    const dim = x.shape[axis];
    if (dim === null || dim === undefined) return ctx.fail('a -1 split size needs a known dimension');
    sizes[open] = dim - sizes.reduce((s, n, i) => (i === open ? s : s + n), 0);
  }
  return splitInto(ctx, x, axis, sizes);
};

const unpack: OpHandler = (ctx) => {
  const x = ctx.input(0);
  if (!x.shape) return ctx.fail('the input rank must be known');
  const axis = norm(ctx.int('axis', 0), x.shape.length);
  const num = ctx.int('num');
  const parts = splitInto(ctx, x, axis, new Array<number>(num).fill(1));
  return parts.map((p) => {
    const h = dims(p);
    const shape = p.shape!.filter((_, i) => i !== axis) as number[];
    return settle(ctx, h && withShape(h, shape), () => squeeze(ctx.b, p, [axis]));
  });
};

function times(d: number | null | undefined, k: number): number | null {
  return d === null || d === undefined ? null : d * k;
}

/** TF's NHWC depth/space moves are ONNX's DCR ordering in NCHW; the transposes cancel against neighbouring convs. */
function depthSpace(op: 'DepthToSpace' | 'SpaceToDepth'): OpHandler {
  return (ctx) => {
    if (ctx.str('data_format', 'NHWC') !== 'NHWC') ctx.fail('only NHWC is supported');
    const { b } = ctx;
    const x = ctx.input(0);
    const k = ctx.int('block_size');
    const s = x.shape;
    const [hw, c] = op === 'DepthToSpace' ? [k, 1 / (k * k)] : [1 / k, k * k];
    const shape = s && [s[0]!, times(s[3], c), times(s[1], hw), times(s[2], hw)];
    const y = b.node(op, [toNCHW(b, x)], { blocksize: k, ...(op === 'DepthToSpace' && { mode: 'DCR' }) }, { dtype: x.dtype, ...(shape && { shape }) });
    return toNHWC(b, y);
  };
}

/** Spatial and trailing sizes must be known; the batch may not be (Reshape copies or infers it). */
function knownDims(ctx: OpContext, x: Value, from: number): number[] {
  const s = x.shape ?? ctx.fail('the input rank must be known');
  if (s.slice(from).includes(null)) ctx.fail('all but the batch dimension must be known');
  return s.slice(from) as number[];
}

const spaceToBatch: OpHandler = (ctx) => {
  const { b } = ctx;
  const block = ctx.constInts(1);
  const pads = ctx.constInts(2);
  const m = block.length;
  let x = ctx.input(0);
  const rest = knownDims(ctx, x, 1 + m);
  const batch = x.shape![0]!;
  if (pads.some((p) => p !== 0)) {
    const padsFull = [0, ...pads.filter((_, i) => i % 2 === 0), ...rest.map(() => 0), 0, ...pads.filter((_, i) => i % 2 === 1), ...rest.map(() => 0)];
    const shape = x.shape!.map((d, i) => (i >= 1 && i <= m && d !== null ? d + pads[2 * (i - 1)]! + pads[2 * (i - 1) + 1]! : d));
    x = b.node('Pad', [x, b.int64s(padsFull)], { mode: 'constant' }, { dtype: x.dtype, shape });
  }
  const spatial = knownDims(ctx, x, 1).slice(0, m);
  const outer = spatial.map((d, i) => d / block[i]!);
  const split = [0, ...spatial.flatMap((_, i) => [outer[i]!, block[i]!]), ...rest];
  const y = b.node('Reshape', [x, b.int64s(split)], {}, { dtype: x.dtype, shape: [batch, ...split.slice(1)] });
  const perm = [...block.map((_, i) => 2 + 2 * i), 0, ...block.map((_, i) => 1 + 2 * i), ...rest.map((_, i) => 1 + 2 * m + i)];
  const t = b.node('Transpose', [y], { perm }, { dtype: x.dtype, shape: perm.map((p) => y.shape![p]!) });
  const n = block.reduce((a, c) => a * c, 1);
  return b.node('Reshape', [t, b.int64s([-1, ...outer, ...rest])], {}, { dtype: x.dtype, shape: [times(batch, n), ...outer, ...rest] });
};

const batchToSpace: OpHandler = (ctx) => {
  const { b } = ctx;
  const x = ctx.input(0);
  const block = ctx.constInts(1);
  const crops = ctx.constInts(2);
  const m = block.length;
  const inner = knownDims(ctx, x, 1);
  const spatial = inner.slice(0, m);
  const rest = inner.slice(m);
  const n = block.reduce((a, c) => a * c, 1);
  const batch = x.shape![0]! === null ? null : x.shape![0]! / n;
  const split = [...block, -1, ...spatial, ...rest];
  const y = b.node('Reshape', [x, b.int64s(split)], {}, { dtype: x.dtype, shape: [...block, batch, ...spatial, ...rest] });
  const perm = [m, ...block.flatMap((_, i) => [m + 1 + i, i]), ...rest.map((_, i) => 2 * m + 1 + i)];
  const t = b.node('Transpose', [y], { perm }, { dtype: x.dtype, shape: perm.map((p) => y.shape![p]!) });
  const full = spatial.map((d, i) => d * block[i]!);
  const merged = b.node('Reshape', [t, b.int64s([-1, ...full, ...rest])], {}, { dtype: x.dtype, shape: [batch, ...full, ...rest] });
  const axes: Axis[] = [batch, ...full, ...rest].map((d, i) => {
    const [lo, hi] = i >= 1 && i <= m ? [crops[2 * (i - 1)]!, crops[2 * (i - 1) + 1]!] : [0, 0];
    return { start: lo, stop: d === null ? BIG : d - hi, step: 1, size: d === null ? null : d - lo - hi, whole: lo === 0 && hi === 0 };
  });
  return sliceNode(b, merged, axes);
};

export const sliceHandlers: Record<string, OpHandler> = {
  DepthToSpace: depthSpace('DepthToSpace'),
  SpaceToDepth: depthSpace('SpaceToDepth'),
  SpaceToBatchND: spaceToBatch,
  BatchToSpaceND: batchToSpace,
  StridedSlice: stridedSlice,
  Slice: slice,
  Split: split,
  SplitV: splitV,
  Unpack: unpack,
};
