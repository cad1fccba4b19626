import type { GraphBuilder } from '../../builder.js';
import type { Value } from '../../ir.js';
import type { OpContext, OpHandler } from '../context.js';
import { permuteConst, toNCHW, toNHWC } from '../layout.js';

/** Spatial padding the way TF computes it: SAME puts the odd pixel at the end, like ONNX SAME_UPPER. */
function pads(ctx: OpContext, inSize: readonly (number | null)[], kernel: readonly number[], strides: readonly number[], dilations: readonly number[]): { pads?: number[]; auto_pad?: string } {
  const padding = ctx.str('padding');
  if (padding === 'VALID') return { pads: [0, 0, 0, 0] };
  if (padding === 'EXPLICIT') {
    const e = ctx.ints('explicit_paddings');
    return { pads: [e[2]!, e[4]!, e[3]!, e[5]!] };
  }
  if (padding !== 'SAME') ctx.fail(`unsupported padding ${padding}`);
  if (inSize.some((d) => d === null)) return { auto_pad: 'SAME_UPPER' };
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < 2; i++) {
    const size = inSize[i]!;
    const out = Math.ceil(size / strides[i]!);
    const effective = (kernel[i]! - 1) * dilations[i]! + 1;
    const total = Math.max((out - 1) * strides[i]! + effective - size, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return { pads: [...begin, ...end] };
}

function outSize(inSize: number | null, k: number, s: number, d: number, before: number, after: number): number | null {
  if (inSize === null) return null;
  return Math.floor((inSize + before + after - ((k - 1) * d + 1)) / s) + 1;
}

function checkNHWC(ctx: OpContext): void {
  const format = ctx.str('data_format', 'NHWC');
  if (format !== 'NHWC') ctx.fail(`data_format ${format} is not supported`);
}

/** Applies the fused activation of _FusedConv2D / FusedDepthwiseConv2dNative / _FusedMatMul in `channelAxis`. */
export function fusedActivation(ctx: OpContext, y: Value, ops: readonly string[], extra: readonly Value[], channelsFirst: boolean): Value {
  const { b } = ctx;
  const out = { dtype: y.dtype, ...(y.shape && { shape: y.shape }) };
  for (const op of ops.slice(1)) {
    switch (op) {
      case 'Relu': y = b.node('Relu', [y], {}, out); break;
      case 'Relu6': y = b.node('Clip', [y, b.floats([0], []), b.floats([6], [])], {}, out); break;
      case 'Sigmoid': y = b.node('Sigmoid', [y], {}, out); break;
      case 'Elu': y = b.node('Elu', [y], { alpha: { float: 1 } }, out); break;
      case 'LeakyRelu': y = b.node('LeakyRelu', [y], { alpha: { float: ctx.float('leakyrelu_alpha', 0.2) } }, out); break;
      case 'Prelu': {
        const alpha = extra[1] ?? ctx.fail('Prelu without its alpha input');
        if (!alpha.data) ctx.fail('a non-constant Prelu alpha is not supported');
        const channels = alpha.data.length;
        const slope = channelsFirst ? b.constant(alpha.data, [channels, 1, 1], `${ctx.node.name}/alpha`) : alpha;
        y = b.node('PRelu', [y, slope], {}, out);
        break;
      }
      default: ctx.fail(`unsupported fused op ${op}`);
    }
  }
  return y;
}

interface ConvSpec { depthwise: boolean; fused: boolean }

function conv(spec: ConvSpec): OpHandler {
  return (ctx) => {
    checkNHWC(ctx);
    const { b } = ctx;
    const x = ctx.input(0);
    const filter = ctx.constFloats(1);
    const [kh, kw, cin, m] = filter.shape;
    const strides = ctx.ints('strides', [1, 1, 1, 1]).slice(1, 3);
    const dilations = ctx.ints('dilations', [1, 1, 1, 1]).slice(1, 3);
    // HWIO -> OIHW; depthwise HWCM -> (C*M)1HW with group C.
    const w = spec.depthwise
      ? permuteConst(filter.data, [kh!, kw!, cin! * m!, 1], [2, 3, 0, 1])
      : permuteConst(filter.data, [kh!, kw!, cin!, m!], [3, 2, 0, 1]);
    const outChannels = spec.depthwise ? cin! * m! : m!;
    const weight = b.constant(w.data, w.shape, `${ctx.node.name}/weight`);
    const inShape = x.shape ?? [null, null, null, null];
    const p = pads(ctx, [inShape[1]!, inShape[2]!], [kh!, kw!], strides, dilations);
    const fusedOps = spec.fused ? ctx.strs('fused_ops') : [];
    if (spec.fused && fusedOps[0] !== 'BiasAdd') ctx.fail(`fused ops ${fusedOps.join(',')} are not supported`);
    const bias = spec.fused ? ctx.input(2) : null;
    const pp = p.pads ?? [0, 0, 0, 0];
    const shape = [inShape[0]!, outChannels, outSize(inShape[1]!, kh!, strides[0]!, dilations[0]!, pp[0]!, pp[2]!), outSize(inShape[2]!, kw!, strides[1]!, dilations[1]!, pp[1]!, pp[3]!)];
    let y = b.node('Conv', [toNCHW(b, x), weight, bias], {
      kernel_shape: [kh!, kw!],
      strides,
      dilations,
      group: spec.depthwise ? cin! : 1,
      ...p,
    }, { dtype: 'float32', shape: p.auto_pad ? [inShape[0]!, outChannels, null, null] : shape });
    if (spec.fused) y = fusedActivation(ctx, y, fusedOps, ctx.inputs.slice(2), true);
    return toNHWC(b, y);
  };
}

function pool(op: 'MaxPool' | 'AveragePool'): OpHandler {
  return (ctx) => {
    checkNHWC(ctx);
    const { b } = ctx;
    const x = ctx.input(0);
    const k = ctx.ints('ksize').slice(1, 3);
    const strides = ctx.ints('strides').slice(1, 3);
    const inShape = x.shape ?? [null, null, null, null];
    const p = pads(ctx, [inShape[1]!, inShape[2]!], k, strides, [1, 1]);
    const pp = p.pads ?? [0, 0, 0, 0];
    const shape = p.auto_pad ? undefined : [inShape[0]!, inShape[3]!, outSize(inShape[1]!, k[0]!, strides[0]!, 1, pp[0]!, pp[2]!), outSize(inShape[2]!, k[1]!, strides[1]!, 1, pp[1]!, pp[3]!)];
    const y = b.node(op, [toNCHW(b, x)], { kernel_shape: k, strides, ...p }, { dtype: x.dtype, ...(shape && { shape }) });
    return toNHWC(b, y);
  };
}

/** Conv2DBackpropInput(output_shape, filter HWOI, x): a transposed convolution. */
const convTranspose: OpHandler = (ctx) => {
  checkNHWC(ctx);
  const { b } = ctx;
  const outShape = ctx.constInts(0);
  const filter = ctx.constFloats(1);
  const x = ctx.input(2);
  const [kh, kw, cout, cin] = filter.shape;
  const w = permuteConst(filter.data, [kh!, kw!, cout!, cin!], [3, 2, 0, 1]);
  const strides = ctx.ints('strides', [1, 1, 1, 1]).slice(1, 3);
  const dilations = ctx.ints('dilations', [1, 1, 1, 1]).slice(1, 3);
  const inShape = x.shape;
  if (!inShape || inShape[1] === null || inShape[2] === null) return ctx.fail('the input size must be known');
  const padding = ctx.str('padding');
  const begin: number[] = [];
  const end: number[] = [];
  const extra: number[] = [];
  for (let i = 0; i < 2; i++) {
    const effective = (([kh, kw][i]!) - 1) * dilations[i]! + 1;
    const total = padding === 'VALID' ? 0 : Math.max((inShape[i + 1]! - 1) * strides[i]! + effective - outShape[i + 1]!, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
    extra.push(outShape[i + 1]! - (strides[i]! * (inShape[i + 1]! - 1) + effective - total));
  }
  const y = b.node('ConvTranspose', [toNCHW(b, x), b.constant(w.data, w.shape, `${ctx.node.name}/weight`)], {
    kernel_shape: [kh!, kw!], strides, dilations, pads: [...begin, ...end], output_padding: extra,
  }, { dtype: 'float32', shape: [inShape[0]!, cout!, outShape[1]!, outShape[2]!] });
  return toNHWC(b, y);
};

export function biasAddNHWC(b: GraphBuilder, x: Value, bias: Value): Value {
  return b.node('Add', [x, bias], {}, { dtype: x.dtype, ...(x.shape && { shape: x.shape }) });
}

export const convHandlers: Record<string, OpHandler> = {
  Conv2D: conv({ depthwise: false, fused: false }),
  _FusedConv2D: conv({ depthwise: false, fused: true }),
  DepthwiseConv2dNative: conv({ depthwise: true, fused: false }),
  FusedDepthwiseConv2dNative: conv({ depthwise: true, fused: true }),
  Conv2DBackpropInput: convTranspose,
  MaxPool: pool('MaxPool'),
  AvgPool: pool('AveragePool'),
  BiasAdd: (ctx) => {
    checkNHWC(ctx);
    return biasAddNHWC(ctx.b, ctx.input(0), ctx.input(1));
  },
};
