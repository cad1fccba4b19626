import type { GraphBuilder } from '../../builder.js';
import type { Value } from '../../ir.js';
import type { OpContext, OpHandler } from '../context.js';
import { broadcastShape, permuteConst } from '../layout.js';
import { fusedActivation } from './conv.js';

type Shape = readonly (number | null)[];

/** Swaps the last two axes; constants are permuted at conversion time so weights never pay a run-time transpose. */
function swapLast(b: GraphBuilder, x: Value, hint: string): Value {
  const s = x.shape!;
  const rank = s.length;
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [rank - 1, rank - 2];
  const shape = perm.map((p) => s[p]!);
  if (x.data instanceof Float32Array && s.every((d) => d !== null)) {
    const t = permuteConst(x.data, s as number[], perm);
    return b.constant(t.data, t.shape, hint);
  }
  return b.node('Transpose', [x], { perm }, { dtype: x.dtype, shape });
}

/** numpy matmul shape: broadcast batch dims, then [M, K] x [K, N] -> [M, N]. */
function matmulShape(a?: Shape, c?: Shape): (number | null)[] | undefined {
  if (!a || !c || a.length < 2 || c.length < 2) return undefined;
  const batch = broadcastShape(a.slice(0, -2), c.slice(0, -2)) ?? [];
  return [...batch, a[a.length - 2]!, c[c.length - 1]!];
}

/**
 * A matmul with optional transposes of either operand. Rank-2 operands become Gemm, which transposes
 * inside the kernel and takes the bias as C; anything else is MatMul (numpy batching, as in TF).
 */
function matmul(ctx: OpContext, a: Value, c: Value, ta: boolean, tb: boolean, bias: Value | null): Value {
  const { b } = ctx;
  const name = ctx.node.name;
  if (a.shape?.length === 2 && c.shape?.length === 2) {
    const m = ta ? a.shape[1]! : a.shape[0]!;
    const n = tb ? c.shape[0]! : c.shape[1]!;
    return b.node('Gemm', bias ? [a, c, bias] : [a, c], { transA: ta ? 1 : 0, transB: tb ? 1 : 0 }, { dtype: 'float32', shape: [m, n] });
  }
  if ((ta && !a.shape) || (tb && !c.shape)) ctx.fail('a transposed operand needs a known rank');
  const x = ta ? swapLast(b, a, `${name}/a_t`) : a;
  const y = tb ? swapLast(b, c, `${name}/b_t`) : c;
  const shape = matmulShape(x.shape, y.shape);
  const out = b.node('MatMul', [x, y], {}, { dtype: 'float32', ...(shape && { shape }) });
  if (!bias) return out;
  const biased = broadcastShape(shape, bias.shape);
  return b.node('Add', [out, bias], {}, { dtype: 'float32', ...(biased && { shape: biased }) });
}

const plainMatMul: OpHandler = (ctx) =>
  matmul(ctx, ctx.input(0), ctx.input(1), ctx.bool('transpose_a'), ctx.bool('transpose_b'), null);

/**
 * _FusedMatMul(a, b, bias[, prelu alpha]): the grappler fusion of MatMul + BiasAdd + activation. TF.js
 * applies the bias before the activation, and so does Gemm's C input.
 */
const fusedMatMul: OpHandler = (ctx) => {
  const ops = ctx.strs('fused_ops');
  if (ops[0] !== 'BiasAdd') ctx.fail(`fused ops ${ops.join(',')} are not supported`);
  const y = matmul(ctx, ctx.input(0), ctx.input(1), ctx.bool('transpose_a'), ctx.bool('transpose_b'), ctx.input(2));
  return fusedActivation(ctx, y, ops, ctx.inputs.slice(2), false);
};

/** BatchMatMul(V2) name their transposes adj_x / adj_y; the values are real, so adjoint is transpose. */
const batchMatMul: OpHandler = (ctx) =>
  matmul(ctx, ctx.input(0), ctx.input(1), ctx.bool('adj_x'), ctx.bool('adj_y'), null);

export const matmulHandlers: Record<string, OpHandler> = {
  MatMul: plainMatMul,
  _FusedMatMul: fusedMatMul,
  BatchMatMul: batchMatMul,
  BatchMatMulV2: batchMatMul,
};
