import { permuteConst, toNCHW, toNHWC } from '../graph/layout.js';
import type { Value } from '../ir.js';
import { activate, layerActivation } from './activations.js';
import type { LayerContext, LayerHandler } from './context.js';
import type { KerasLayer } from './types.js';

type Size = number | null;
type Padding = { pads: number[] } | { auto_pad: 'SAME_UPPER' };

/**
 * ONNX padding ([top, left, bottom, right]) for Keras's `padding`. TF's "same" puts the odd pixel at the end.
 * At stride 1 the amount does not depend on the input size, so inputs of any size still get explicit pads.
 */
function padding(ctx: LayerContext, inHW: readonly Size[], k: readonly number[], s: readonly number[], d: readonly number[], extra?: readonly number[]): Padding {
  const mode = ctx.str('padding', 'valid');
  if (mode === 'valid') return { pads: extra ? [extra[0]!, extra[2]!, extra[1]!, extra[3]!] : [0, 0, 0, 0] };
  if (mode !== 'same') ctx.fail(`padding ${mode} is not supported`);
  if (extra) ctx.fail('a folded ZeroPadding2D needs padding "valid"');
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < 2; i++) {
    const effective = (k[i]! - 1) * d[i]! + 1;
    const size = inHW[i];
    let total: number;
    if (s[i] === 1) total = effective - 1;
    else if (size == null) return { auto_pad: 'SAME_UPPER' };
    else total = Math.max((Math.ceil(size / s[i]!) - 1) * s[i]! + effective - size, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return { pads: [...begin, ...end] };
}

function spatialOut(inHW: readonly Size[], k: readonly number[], s: readonly number[], d: readonly number[], p: Padding): Size[] {
  return [0, 1].map((i) => {
    const size = inHW[i];
    if (size == null) return null;
    if (!('pads' in p)) return Math.ceil(size / s[i]!);
    return Math.floor((size + p.pads[i]! + p.pads[i + 2]! - ((k[i]! - 1) * d[i]! + 1)) / s[i]!) + 1;
  });
}

function input4d(ctx: LayerContext): { x: Value; n: Size; hw: Size[] } {
  ctx.channelsLast();
  const x = ctx.only();
  if (ctx.rank(x) !== 4) ctx.fail(`expected a rank-4 NHWC input, got rank ${ctx.rank(x)}`);
  return { x, n: x.shape![0]!, hw: [x.shape![1]!, x.shape![2]!] };
}

/** Inference-time BatchNormalization as y = x * scale + shift, computed in float64. */
export function bnParams(ctx: LayerContext, bn: KerasLayer, channels: number): { scale: Float64Array; shift: Float64Array } {
  const name = bn.config.name ?? bn.name!;
  const c = bn.config;
  const eps = typeof c.epsilon === 'number' ? c.epsilon : 1e-3;
  const gamma = c.scale === false ? undefined : ctx.weight('gamma', name).data;
  const beta = c.center === false ? undefined : ctx.weight('beta', name).data;
  const mean = ctx.weight('moving_mean', name).data;
  const variance = ctx.weight('moving_variance', name).data;
  for (const p of [gamma, beta, mean, variance]) if (p && p.length !== channels) ctx.fail(`BatchNormalization ${name} has ${p.length} channels, expected ${channels}`);
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let i = 0; i < channels; i++) {
    scale[i] = (gamma?.[i] ?? 1) / Math.sqrt(variance[i]! + eps);
    shift[i] = (beta?.[i] ?? 0) - mean[i]! * scale[i]!;
  }
  return { scale, shift };
}

/** BatchNormalization on its own (not after a conv): a broadcast multiply-add over its axis. */
const batchNorm: LayerHandler = (ctx) => {
  const x = ctx.only();
  const rank = ctx.rank(x);
  const raw = ctx.config.axis ?? -1;
  const axisList = Array.isArray(raw) ? raw : [raw];
  if (axisList.length !== 1 || typeof axisList[0] !== 'number') ctx.fail(`axis ${JSON.stringify(raw)} is not supported`);
  const axis = axisList[0] < 0 ? axisList[0] + rank : axisList[0];
  const channels = ctx.weight('moving_mean').shape[0]!;
  const { scale, shift } = bnParams(ctx, ctx.layer, channels);
  const shape = [channels, ...new Array<number>(rank - 1 - axis).fill(1)];
  const { b } = ctx;
  const y = b.node('Mul', [x, b.constant(Float32Array.from(scale), shape, `${ctx.name}/scale`)], {}, ctx.out(x.shape));
  return b.node('Add', [y, b.constant(Float32Array.from(shift), shape, `${ctx.name}/shift`)], {}, ctx.out(x.shape));
};

/** Conv2D and DepthwiseConv2D, absorbing a ZeroPadding2D before and a BatchNormalization after when planned. */
function convLayer(depthwise: boolean): LayerHandler {
  return (ctx) => {
    const { b } = ctx;
    const { x, n, hw } = input4d(ctx);
    const kernel = ctx.weight(depthwise ? 'depthwise_kernel' : 'kernel');
    const [kh, kw, cin, m] = kernel.shape as [number, number, number, number];
    if (!depthwise && ctx.num('groups', 1) !== 1) ctx.fail('grouped convolution is not supported');
    if (x.shape![3] != null && x.shape![3] !== cin) ctx.fail(`kernel expects ${cin} input channels, the input has ${x.shape![3]}`);
    const strides = ctx.pair('strides', [1, 1]);
    const dilations = ctx.pair('dilation_rate', [1, 1]);
    // HWIO -> OIHW; depthwise HWCM -> (C*M)1HW with one group per input channel.
    const w = depthwise ? permuteConst(kernel.data, [kh, kw, cin * m, 1], [2, 3, 0, 1]) : permuteConst(kernel.data, [kh, kw, cin, m], [3, 2, 0, 1]);
    const outC = depthwise ? cin * m : m;
    let bias = ctx.bool('use_bias', true) ? ctx.weight('bias').data : undefined;
    const act = layerActivation(ctx);
    if (ctx.fusion.bn) {
      if (act !== 'linear') ctx.fail('a BatchNormalization can only be folded into a conv without activation');
      const { scale, shift } = bnParams(ctx, ctx.fusion.bn, outC);
      const per = w.data.length / outC;
      for (let o = 0; o < outC; o++) for (let i = o * per; i < (o + 1) * per; i++) w.data[i] = w.data[i]! * scale[o]!;
      const folded = new Float32Array(outC);
      for (let o = 0; o < outC; o++) folded[o] = (bias?.[o] ?? 0) * scale[o]! + shift[o]!;
      bias = folded;
    }
    if (bias && bias.length !== outC) ctx.fail(`bias has ${bias.length} values for ${outC} channels`);
    const k = [kh, kw];
    const p = padding(ctx, hw, k, strides, dilations, ctx.fusion.pads);
    const y = b.node('Conv', [
      toNCHW(b, x),
      b.constant(w.data, w.shape, `${ctx.name}/weight`),
      bias ? b.constant(bias, [outC], `${ctx.name}/bias`) : null,
    ], {
      kernel_shape: k, strides, dilations, group: depthwise ? cin : 1, ...p,
    }, ctx.out([n, outC, ...spatialOut(hw, k, strides, dilations, p)]));
    return toNHWC(b, activate(ctx, y, act, 1));
  };
}

function poolLayer(op: 'MaxPool' | 'AveragePool'): LayerHandler {
  return (ctx) => {
    const { x, n, hw } = input4d(ctx);
    const k = ctx.pair('pool_size', [2, 2]);
    const strides = ctx.config.strides == null ? k : ctx.pair('strides');
    const p = padding(ctx, hw, k, strides, [1, 1]);
    // AveragePool's default count_include_pad=0 averages over the valid pixels only, as TF does.
    const y = ctx.b.node(op, [toNCHW(ctx.b, x)], { kernel_shape: k, strides, ...p }, ctx.out([n, x.shape![3]!, ...spatialOut(hw, k, strides, [1, 1], p)]));
    return toNHWC(ctx.b, y);
  };
}

/** ZeroPadding2D's `padding` (int, [h, w] or [[top, bottom], [left, right]]) as [top, bottom, left, right]. */
export function zeroPadding(config: Record<string, unknown>): [number, number, number, number] | undefined {
  const p = config.padding ?? 1;
  if (typeof p === 'number') return [p, p, p, p];
  if (!Array.isArray(p) || p.length !== 2) return undefined;
  const [h, w] = p as unknown[];
  const side = (v: unknown): [number, number] | undefined => (typeof v === 'number' ? [v, v]
    : Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number') ? [v[0] as number, v[1] as number] : undefined);
  const hh = side(h);
  const ww = side(w);
  return hh && ww ? [hh[0], hh[1], ww[0], ww[1]] : undefined;
}

const zeroPad: LayerHandler = (ctx) => {
  const { x, n, hw } = input4d(ctx);
  const p = zeroPadding(ctx.config) ?? ctx.fail(`padding ${JSON.stringify(ctx.config.padding)} is not supported`);
  const [t, bt, l, r] = p;
  const shape = [n, hw[0] == null ? null : hw[0] + t + bt, hw[1] == null ? null : hw[1] + l + r, x.shape![3]!];
  return ctx.b.node('Pad', [x, ctx.b.int64s([0, t, l, 0, 0, bt, r, 0])], { mode: 'constant' }, ctx.out(shape));
};

function globalPool(op: 'ReduceMean' | 'ReduceMax'): LayerHandler {
  return (ctx) => {
    const { x, n } = input4d(ctx);
    const keep = ctx.bool('keepdims', false);
    return ctx.b.node(op, [x], { axes: [1, 2], keepdims: keep ? 1 : 0 }, ctx.out(keep ? [n, 1, 1, x.shape![3]!] : [n, x.shape![3]!]));
  };
}

export const convHandlers: Record<string, LayerHandler> = {
  Conv2D: convLayer(false),
  DepthwiseConv2D: convLayer(true),
  BatchNormalization: batchNorm,
  MaxPooling2D: poolLayer('MaxPool'),
  AveragePooling2D: poolLayer('AveragePool'),
  ZeroPadding2D: zeroPad,
  GlobalAveragePooling2D: globalPool('ReduceMean'),
  GlobalMaxPooling2D: globalPool('ReduceMax'),
};
