import type { Value } from '../ir.js';
import type { LayerContext, LayerHandler } from './context.js';

/**
 * Keras's named activations as TF.js applies them. `channelAxis` is where the layer's last Keras axis sits
 * in `x` (1 inside a conv's NCHW section), which only softmax cares about.
 */
export function activate(ctx: LayerContext, x: Value, name: string, channelAxis = -1): Value {
  const { b } = ctx;
  const out = ctx.out(x.shape);
  switch (name) {
    case 'linear': return x;
    case 'relu': return b.node('Relu', [x], {}, out);
    case 'relu6': return b.node('Clip', [x, b.floats([0], []), b.floats([6], [])], {}, out);
    case 'sigmoid': return b.node('Sigmoid', [x], {}, out);
    case 'tanh': return b.node('Tanh', [x], {}, out);
    case 'softmax': return b.node('Softmax', [x], { axis: channelAxis }, out);
    case 'elu': return b.node('Elu', [x], { alpha: { float: 1 } }, out);
    case 'softplus': return b.node('Softplus', [x], {}, out);
    default: return ctx.fail(`activation ${name} is not supported`);
  }
}

/** The `activation` argument of Conv2D, Dense and friends. */
export function layerActivation(ctx: LayerContext): string {
  const a = ctx.config.activation;
  if (a == null) return 'linear';
  if (typeof a === 'string') return a;
  return ctx.fail(`activation ${JSON.stringify(a)} is not a built-in name`);
}

export const activationHandlers: Record<string, LayerHandler> = {
  Activation: (ctx) => activate(ctx, ctx.only(), ctx.str('activation')),
  ReLU: (ctx) => {
    // TF.js's ReLU layer reads max_value only; Keras's leaky/thresholded forms would silently differ.
    if (ctx.num('negative_slope', 0) !== 0 || ctx.num('threshold', 0) !== 0) ctx.fail('negative_slope and threshold are not supported');
    const x = ctx.only();
    const max = ctx.config.max_value;
    if (max == null) return ctx.b.node('Relu', [x], {}, ctx.out(x.shape));
    return ctx.b.node('Clip', [x, ctx.b.floats([0], []), ctx.b.floats([ctx.num('max_value')], [])], {}, ctx.out(x.shape));
  },
  Softmax: (ctx) => {
    const axis = ctx.config.axis;
    if (axis != null && axis !== -1 && !(Array.isArray(axis) && axis.length === 1 && axis[0] === -1)) ctx.fail(`softmax over axis ${JSON.stringify(axis)} is not supported`);
    return activate(ctx, ctx.only(), 'softmax');
  },
};
