import { toNCHW, toNHWC } from '../graph/layout.js';
import type { Value } from '../ir.js';
import { activate, layerActivation } from './activations.js';
import type { LayerHandler } from './context.js';

const dense: LayerHandler = (ctx) => {
  const { b } = ctx;
  const x = ctx.only();
  const kernel = ctx.weight('kernel');
  const [inDim, units] = kernel.shape as [number, number];
  const s = x.shape;
  if (s && s[s.length - 1] != null && s[s.length - 1] !== inDim) ctx.fail(`kernel expects ${inDim} features, the input has ${s[s.length - 1]}`);
  const shape = s && [...s.slice(0, -1), units];
  let y = b.node('MatMul', [x, b.constant(kernel.data, kernel.shape, `${ctx.name}/kernel`)], {}, ctx.out(shape));
  if (ctx.bool('use_bias', true)) y = b.node('Add', [y, b.constant(ctx.weight('bias').data, [units], `${ctx.name}/bias`)], {}, ctx.out(shape));
  return activate(ctx, y, layerActivation(ctx));
};

/** Keras flattens channels_last tensors in row-major order, which is ONNX Flatten on the NHWC tensor. */
const flatten: LayerHandler = (ctx) => {
  ctx.channelsLast();
  const x = ctx.only();
  const s = x.shape;
  const rest = s?.slice(1);
  const features = rest && rest.every((d) => d != null) ? rest.reduce<number>((a, d) => a * d!, 1) : null;
  return ctx.b.node('Flatten', [x], { axis: 1 }, ctx.out(s && [s[0]!, features]));
};

const reshape: LayerHandler = (ctx) => {
  const x = ctx.only();
  const target = ctx.config.target_shape;
  if (!Array.isArray(target) || !target.every((d) => typeof d === 'number' && d !== 0)) ctx.fail(`target_shape ${JSON.stringify(target)} is not supported`);
  const dims = target as number[];
  // 0 copies the batch dimension from the input, so the batch stays dynamic.
  return ctx.b.node('Reshape', [x, ctx.b.int64s([0, ...dims])], {}, ctx.out([x.shape?.[0] ?? null, ...dims.map((d) => (d < 0 ? null : d))]));
};

type Shape = readonly (number | null)[] | undefined;

/** numpy broadcasting where null is an unknown size (graph/layout's broadcastShape reads null as 1). */
function broadcast(a: Shape, b: Shape): (number | null)[] | undefined {
  if (!a || !b) return undefined;
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const x = i < rank - a.length ? 1 : (a[i - (rank - a.length)] as number | null);
    const y = i < rank - b.length ? 1 : (b[i - (rank - b.length)] as number | null);
    return x === 1 ? y : y === 1 ? x : x ?? y;
  });
}

/** Layers that only act while training. */
const identity: LayerHandler = (ctx) => ctx.only();

function merge(op: 'Add' | 'Mul' | 'Sub' | 'Max' | 'Min'): LayerHandler {
  return (ctx) => {
    if (ctx.inputs.length < 2) ctx.fail('expected at least two inputs');
    if (op === 'Sub' && ctx.inputs.length !== 2) ctx.fail('Subtract takes exactly two inputs');
    let y: Value = ctx.input(0);
    for (const x of ctx.inputs.slice(1)) y = ctx.b.node(op, [y, x], {}, ctx.out(broadcast(y.shape, x.shape)));
    return y;
  };
}

const concatenate: LayerHandler = (ctx) => {
  if (ctx.inputs.length < 2) ctx.fail('expected at least two inputs');
  const axis = ctx.num('axis', -1);
  const rank = ctx.rank(ctx.input(0));
  const a = axis < 0 ? axis + rank : axis;
  const shape = ctx.inputs[0]!.shape!.map((d, i) => (i !== a ? d : ctx.inputs.reduce<number | null>((sum, x) => (sum == null || x.shape?.[i] == null ? null : sum + x.shape[i]!), 0)));
  return ctx.b.node('Concat', [...ctx.inputs], { axis: a }, ctx.out(shape));
};

/**
 * TF.js resizes with align_corners=false and half_pixel_centers=false: source pixel = floor(dst / scale),
 * which is ONNX's "asymmetric" transform.
 */
const upSampling: LayerHandler = (ctx) => {
  ctx.channelsLast();
  const { b } = ctx;
  const x = ctx.only();
  if (ctx.rank(x) !== 4) ctx.fail('expected a rank-4 input');
  const [sh, sw] = ctx.pair('size', [2, 2]);
  const interpolation = ctx.str('interpolation', 'nearest');
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') ctx.fail(`interpolation ${interpolation} is not supported`);
  const s = x.shape!;
  const shape = [s[0]!, s[3]!, s[1] == null ? null : s[1] * sh, s[2] == null ? null : s[2] * sw];
  const y = b.node('Resize', [toNCHW(b, x), null, b.floats([1, 1, sh, sw])], {
    mode: interpolation === 'nearest' ? 'nearest' : 'linear',
    coordinate_transformation_mode: 'asymmetric',
    nearest_mode: 'floor',
  }, ctx.out(shape));
  return toNHWC(b, y);
};

/**
 * @upscalerjs/esrgan-thick's MultiplyBeta: tf.mul(x, 0.2). The package's class hard-codes beta and ignores
 * the saved config, so a different saved value is refused rather than guessed at.
 */
const multiplyBeta: LayerHandler = (ctx) => {
  const beta = ctx.num('beta', 0.2);
  if (beta !== 0.2) ctx.fail(`beta ${beta} differs from the 0.2 the package's layer applies`);
  const x = ctx.only();
  return ctx.b.node('Mul', [x, ctx.b.floats([0.2], [])], {}, ctx.out(x.shape));
};

/**
 * @upscalerjs/esrgan-thick's PixelShuffle{N}x: tf.depthToSpace(x, N, 'NHWC'). TF's depth_to_space is
 * ONNX DepthToSpace in DCR mode. The scale comes from the class name, as the package registers it.
 */
function pixelShuffle(scale: number): LayerHandler {
  return (ctx) => {
    const { b } = ctx;
    const x = ctx.only();
    if (ctx.rank(x) !== 4) ctx.fail('expected a rank-4 input');
    if (ctx.config.scale != null && ctx.num('scale') !== scale) ctx.fail(`config scale ${String(ctx.config.scale)} differs from the class name's ${scale}`);
    const s = x.shape!;
    if (s[3] != null && s[3] % (scale * scale) !== 0) ctx.fail(`${s[3]} channels do not divide into ${scale}x${scale} blocks`);
    const shape = [s[0]!, s[3] == null ? null : s[3] / (scale * scale), s[1] == null ? null : s[1] * scale, s[2] == null ? null : s[2] * scale];
    return toNHWC(b, b.node('DepthToSpace', [toNCHW(b, x)], { blocksize: scale, mode: 'DCR' }, ctx.out(shape)));
  };
}

export const coreHandlers: Record<string, LayerHandler> = {
  Dense: dense,
  Flatten: flatten,
  Reshape: reshape,
  Dropout: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  Add: merge('Add'),
  Multiply: merge('Mul'),
  Subtract: merge('Sub'),
  Maximum: merge('Max'),
  Minimum: merge('Min'),
  Concatenate: concatenate,
  UpSampling2D: upSampling,
  MultiplyBeta: multiplyBeta,
};

/** Handlers for class names that carry a parameter. */
export function parametricHandler(className: string): LayerHandler | undefined {
  const m = /^PixelShuffle(\d+)x$/.exec(className);
  return m ? pixelShuffle(Number(m[1])) : undefined;
}
