import type { DType, Value } from '../../ir.js';
import type { OpContext, OpHandler } from '../context.js';
import { broadcastShape, perChannelConst, toNHWC } from '../layout.js';

const commutative = new Set(['Add', 'Mul', 'Max', 'Min']);

/** Runs `op` on the NCHW side of a convolution's output, where onnxruntime can fuse it into the Conv. */
function beforeTranspose(ctx: OpContext, op: string, x: Value, k: Value | undefined, attrs: Record<string, number | { float: number }> = {}): Value | undefined {
  if (!x.nchw || x.dtype !== 'float32') return undefined;
  const inputs = k === undefined ? [x.nchw] : [x.nchw, k];
  const y = ctx.b.node(op, inputs, attrs, { dtype: 'float32', ...(x.nchw.shape && { shape: x.nchw.shape }) });
  return toNHWC(ctx.b, y);
}

/** TF and ONNX broadcast the same way (numpy rules), so binary ops map one to one. */
function binary(op: string, outDtype?: DType): OpHandler {
  return (ctx) => {
    const a = ctx.input(0);
    const c = ctx.input(1);
    if (!outDtype) {
      const k = perChannelConst(ctx.b, a, c);
      const moved = k && beforeTranspose(ctx, op, a, k);
      if (moved) return moved;
      const k2 = commutative.has(op) ? perChannelConst(ctx.b, c, a) : undefined;
      const moved2 = k2 && beforeTranspose(ctx, op, c, k2);
      if (moved2) return moved2;
    }
    const shape = broadcastShape(a.shape, c.shape);
    return ctx.b.node(op, [a, c], {}, { dtype: outDtype ?? a.dtype, ...(shape && { shape }) });
  };
}

function unary(op: string, attrs: Record<string, number | { float: number }> = {}): OpHandler {
  return (ctx) => {
    const x = ctx.input(0);
    return beforeTranspose(ctx, op, x, undefined, attrs) ?? ctx.b.node(op, [x], attrs, { dtype: x.dtype, ...(x.shape && { shape: x.shape }) });
  };
}

function same(x: Value) {
  return { dtype: x.dtype, ...(x.shape && { shape: x.shape }) };
}

const relu6: OpHandler = (ctx) => {
  const x = ctx.input(0);
  const [lo, hi] = [ctx.b.floats([0], []), ctx.b.floats([6], [])];
  if (x.nchw && x.dtype === 'float32') {
    return toNHWC(ctx.b, ctx.b.node('Clip', [x.nchw, lo, hi], {}, same(x.nchw)));
  }
  return ctx.b.node('Clip', [x, lo, hi], {}, same(x));
};

const square: OpHandler = (ctx) => {
  const x = ctx.input(0);
  return ctx.b.node('Mul', [x, x], {}, same(x));
};

const rsqrt: OpHandler = (ctx) => {
  const x = ctx.input(0);
  return ctx.b.node('Reciprocal', [ctx.b.node('Sqrt', [x], {}, same(x))], {}, same(x));
};

const squaredDifference: OpHandler = (ctx) => {
  const d = binary('Sub')(ctx) as Value;
  return ctx.b.node('Mul', [d, d], {}, same(d));
};

/** The two inputs of a binary op and its broadcast output description. */
function operands(ctx: OpContext): { a: Value; c: Value; out: { dtype: DType; shape?: (number | null)[] } } {
  const a = ctx.input(0);
  const c = ctx.input(1);
  const shape = broadcastShape(a.shape, c.shape);
  return { a, c, out: { dtype: a.dtype, ...(shape && { shape }) } };
}

/** TF FloorDiv floors; ONNX Div truncates for integers, so floats go through Floor and ints through Mod. */
const floorDiv: OpHandler = (ctx) => {
  const { b } = ctx;
  const { a, c, out } = operands(ctx);
  if (a.dtype === 'float32') return b.node('Floor', [b.node('Div', [a, c], {}, out)], {}, out);
  // (a - floormod(a, c)) / c is exact for integers.
  const mod = b.node('Mod', [a, c], { fmod: 0 }, out);
  return b.node('Div', [b.node('Sub', [a, mod], {}, out), c], {}, out);
};

const floorMod: OpHandler = (ctx) => {
  const { b } = ctx;
  const { a, c, out } = operands(ctx);
  if (a.dtype !== 'float32') return b.node('Mod', [a, c], { fmod: 0 }, out);
  // Python-style modulo for floats: a - floor(a / c) * c.
  const q = b.node('Floor', [b.node('Div', [a, c], {}, out)], {}, out);
  return b.node('Sub', [a, b.node('Mul', [q, c], {}, out)], {}, out);
};

const softmax: OpHandler = (ctx) => {
  const x = ctx.input(0);
  return ctx.b.node('Softmax', [x], { axis: -1 }, same(x));
};

const leakyRelu: OpHandler = (ctx) => {
  const x = ctx.input(0);
  const attrs = { alpha: { float: ctx.float('alpha', 0.2) } };
  return beforeTranspose(ctx, 'LeakyRelu', x, undefined, attrs) ?? ctx.b.node('LeakyRelu', [x], attrs, same(x));
};

const addN: OpHandler = (ctx) => {
  const xs = ctx.inputs;
  const shape = xs.reduce<readonly (number | null)[] | undefined>((s, x) => broadcastShape(s, x.shape), xs[0]!.shape);
  return ctx.b.node('Sum', xs, {}, { dtype: xs[0]!.dtype, ...(shape && { shape }) });
};

const select: OpHandler = (ctx: OpContext) => {
  const [cond, a, c] = [ctx.input(0), ctx.input(1), ctx.input(2)];
  const shape = broadcastShape(broadcastShape(cond.shape, a.shape), c.shape);
  return ctx.b.node('Where', [cond, a, c], {}, { dtype: a.dtype, ...(shape && { shape }) });
};

export const elementwiseHandlers: Record<string, OpHandler> = {
  Add: binary('Add'),
  AddV2: binary('Add'),
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  RealDiv: binary('Div'),
  Div: binary('Div'),
  Maximum: binary('Max'),
  Minimum: binary('Min'),
  Pow: binary('Pow'),
  Equal: binary('Equal', 'bool'),
  Greater: binary('Greater', 'bool'),
  GreaterEqual: binary('GreaterOrEqual', 'bool'),
  Less: binary('Less', 'bool'),
  LessEqual: binary('LessOrEqual', 'bool'),
  LogicalAnd: binary('And', 'bool'),
  FloorDiv: floorDiv,
  FloorMod: floorMod,
  SquaredDifference: squaredDifference,
  AddN: addN,
  Select: select,
  SelectV2: select,
  Relu: unary('Relu'),
  Relu6: relu6,
  Elu: unary('Elu', { alpha: { float: 1 } }),
  LeakyRelu: leakyRelu,
  Prelu: binary('PRelu'),
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  Exp: unary('Exp'),
  Log: unary('Log'),
  Sqrt: unary('Sqrt'),
  Rsqrt: rsqrt,
  Square: square,
  Neg: unary('Neg'),
  Abs: unary('Abs'),
  Floor: unary('Floor'),
  Ceil: unary('Ceil'),
  Reciprocal: unary('Reciprocal'),
  Sin: unary('Sin'),
  Cos: unary('Cos'),
  Softmax: softmax,
};
