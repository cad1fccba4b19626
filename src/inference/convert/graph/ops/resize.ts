import type { GraphBuilder } from '../../builder.js';
import type { Value } from '../../ir.js';
import { DataType } from '../../onnx/proto.js';
import type { OpContext, OpHandler } from '../context.js';
import { toNCHW, toNHWC } from '../layout.js';

interface ResizeFlags { alignCorners: boolean; halfPixel: boolean }

function flags(ctx: OpContext): ResizeFlags {
  const alignCorners = ctx.bool('align_corners');
  const halfPixel = ctx.bool('half_pixel_centers');
  // TF itself rejects the combination; refusing it here keeps the mode mapping below total.
  if (alignCorners && halfPixel) ctx.fail('align_corners and half_pixel_centers together are not valid');
  return { alignCorners, halfPixel };
}

/**
 * The ONNX Resize `sizes` input in NCHW order. A constant TF size folds to a constant; otherwise N and C
 * come from the input's run-time shape and H, W from the (int32) size tensor.
 */
function sizesNCHW(ctx: OpContext, x: Value): { sizes: Value; hw: (number | null)[] } {
  const { b } = ctx;
  const s = x.shape!;
  if (ctx.isConst(1)) {
    const [h, w] = ctx.constInts(1) as [number, number];
    if (s[0] !== null && s[3] !== null) return { sizes: b.int64s([s[0]!, s[3]!, h, w]), hw: [h, w] };
  }
  const shape = b.node('Shape', [x], {}, { dtype: 'int64', shape: [4] });
  const nc = b.node('Gather', [shape, b.int64s([0, 3])], { axis: 0 }, { dtype: 'int64', shape: [2] });
  const hw = b.node('Cast', [ctx.input(1)], { to: DataType.INT64 }, { dtype: 'int64', shape: [2] });
  const sizes = b.node('Concat', [nc, hw], { axis: 0 }, { dtype: 'int64', shape: [4] });
  const known = ctx.isConst(1) ? ctx.constInts(1) : [null, null];
  return { sizes, hw: known };
}

/**
 * ResizeBilinear. TF's coordinate mapping (tfjs-core resize_bilinear / XNNPACK in the wasm backend):
 * align_corners scales by (in - 1) / (out - 1) unless out is 1; half_pixel_centers samples at
 * (o + 0.5) * in / out - 0.5, clamped to the edge; neither is o * in / out. Those are ONNX's
 * 'align_corners' (which also maps a length-1 output to 0), 'half_pixel' and 'asymmetric' modes, and
 * ONNX's linear mode clamps out-of-range coordinates to the edge as TF does.
 */
const resizeBilinear: OpHandler = (ctx) => {
  const { b } = ctx;
  const raw = ctx.input(0);
  const s = raw.shape;
  if (s?.length !== 4) return ctx.fail('the input must be a rank-4 NHWC tensor');
  // TF.js interpolates integer images in float32 and returns float32.
  const x = raw.dtype === 'float32' ? raw : b.node('Cast', [raw], { to: DataType.FLOAT }, { dtype: 'float32', shape: raw.shape });
  const { alignCorners, halfPixel } = flags(ctx);
  const mode = alignCorners ? 'align_corners' : halfPixel ? 'half_pixel' : 'asymmetric';
  const { sizes, hw } = sizesNCHW(ctx, x);
  // Resized like the convolutions around it, in NCHW, so the transposes between them can cancel.
  const y = b.node('Resize', [toNCHW(b, x), null, null, sizes], {
    mode: 'linear',
    coordinate_transformation_mode: mode,
  }, { dtype: 'float32', shape: [s[0]!, s[3]!, hw[0]!, hw[1]!] });
  return toNHWC(b, y);
};

/**
 * Source indices of a nearest-neighbour resize along one axis, computed the way the wasm kernel
 * (ResizeNearestNeighbor.cc) does in float32: floor of scale * o (or of scale * (o + 0.5) with half-pixel
 * centres), roundf with align_corners, clamped to the input.
 */
function nearestIndices(inSize: number, outSize: number, { alignCorners, halfPixel }: ResizeFlags): number[] {
  const f = Math.fround;
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const scale = f(effIn / effOut);
  const out: number[] = [];
  for (let o = 0; o < outSize; o++) {
    // scale * (o + 0.5) is evaluated in double (0.5 is a double literal) and stored to a float.
    const pos = halfPixel ? f(scale * (o + 0.5)) : f(scale * o);
    // roundf rounds halves away from zero; pos >= 0, so that is Math.round.
    let i = Math.min(inSize - 1, alignCorners ? Math.round(pos) : Math.floor(pos));
    if (halfPixel) i = Math.max(0, i);
    out.push(i);
  }
  return out;
}

function gatherAxis(b: GraphBuilder, x: Value, axis: number, indices: number[]): Value {
  if (indices.every((v, i) => v === i) && x.shape![axis] === indices.length) return x;
  const shape = x.shape!.map((d, i) => (i === axis ? indices.length : d));
  return b.node('Gather', [x, b.int64s(indices)], { axis }, { dtype: x.dtype, shape });
}

/**
 * ResizeNearestNeighbor. With known sizes it is two Gathers over precomputed TF indices, which is exact by
 * construction (ONNX Resize divides by out / in where TF multiplies by in / out, and the two roundings can
 * fall on either side of an integer); otherwise ONNX Resize with the matching rounding.
 */
const resizeNearest: OpHandler = (ctx) => {
  const { b } = ctx;
  const x = ctx.input(0);
  const s = x.shape;
  if (s?.length !== 4) return ctx.fail('the input must be a rank-4 NHWC tensor');
  const f = flags(ctx);
  const [, ih, iw] = s;
  if (ctx.isConst(1) && ih !== null && iw !== null) {
    const [oh, ow] = ctx.constInts(1) as [number, number];
    return gatherAxis(b, gatherAxis(b, x, 1, nearestIndices(ih!, oh, f)), 2, nearestIndices(iw!, ow, f));
  }
  const { sizes, hw } = sizesNCHW(ctx, x);
  const y = b.node('Resize', [toNCHW(b, x), null, null, sizes], {
    mode: 'nearest',
    coordinate_transformation_mode: f.alignCorners ? 'align_corners' : f.halfPixel ? 'tf_half_pixel_for_nn' : 'asymmetric',
    nearest_mode: f.alignCorners ? 'round_prefer_ceil' : 'floor',
  }, { dtype: x.dtype, shape: [s[0]!, s[3]!, hw[0]!, hw[1]!] });
  return toNHWC(b, y);
};

export const resizeHandlers: Record<string, OpHandler> = {
  ResizeBilinear: resizeBilinear,
  ResizeNearestNeighbor: resizeNearest,
};
