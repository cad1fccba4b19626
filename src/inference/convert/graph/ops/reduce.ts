import type { OpHandler } from '../context.js';

/** TF reductions take the axes as a tensor; ONNX wants them fixed at conversion time, so they must be constants. */
function reduce(op: string): OpHandler {
  return (ctx) => {
    const x = ctx.input(0);
    const rank = x.shape?.length;
    const axes = ctx.constInts(1).map((a) => (a < 0 && rank !== undefined ? a + rank : a));
    const keep = ctx.bool('keep_dims');
    const shape = x.shape && rank !== undefined
      ? x.shape.flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d]))
      : undefined;
    const out = { dtype: x.dtype, ...(shape && { shape }) };
    // At opset 17 ReduceSum alone takes its axes as an input (since opset 13); the others still as an attribute.
    if (op === 'ReduceSum') return ctx.b.node(op, [x, ctx.b.int64s(axes)], { keepdims: keep ? 1 : 0 }, out);
    return ctx.b.node(op, [x], { axes, keepdims: keep ? 1 : 0 }, out);
  };
}

export const reduceHandlers: Record<string, OpHandler> = {
  Mean: reduce('ReduceMean'),
  Sum: reduce('ReduceSum'),
  Max: reduce('ReduceMax'),
  Min: reduce('ReduceMin'),
  Prod: reduce('ReduceProd'),
};
