import type { Value } from '../../ir.js';
import { DataType } from '../../onnx/proto.js';
import type { OpContext, OpHandler } from '../context.js';

function toInt32(ctx: OpContext, v: Value): Value {
  return ctx.b.node('Cast', [v], { to: DataType.INT32 }, { dtype: 'int32', ...(v.shape && { shape: v.shape }) });
}

/** ONNX TopK wants K as an int64 tensor of shape [1]; TF gives a scalar int32. */
function kInput(ctx: OpContext): { k: Value; known: number | null } {
  const { b } = ctx;
  if (ctx.isConst(1)) {
    const k = ctx.constInts(1)[0]!;
    return { k: b.int64s([k]), known: k };
  }
  const k64 = b.node('Cast', [ctx.input(1)], { to: DataType.INT64 }, { dtype: 'int64' });
  return { k: b.node('Reshape', [k64, b.int64s([1])], {}, { dtype: 'int64', shape: [1] }), known: null };
}

/**
 * TopKV2(x, k) -> (values, int32 indices) along the last axis. TF.js always returns the top k sorted in
 * descending order with ties broken by the lower index (TopK.cc's comparator), which is exactly ONNX TopK
 * with largest=1, sorted=1; `sorted` = false only permits another order, so sorting anyway is correct.
 */
const topK: OpHandler = (ctx) => {
  const x = ctx.input(0);
  const { k, known } = kInput(ctx);
  const shape = x.shape && [...x.shape.slice(0, -1), known];
  const [values, indices] = ctx.b.nodeN('TopK', [x, k], { axis: -1, largest: 1, sorted: 1 }, [
    { dtype: x.dtype, ...(shape && { shape }) },
    { dtype: 'int64', ...(shape && { shape }) },
  ]);
  // TF's indices are int32 and flow into int32 arithmetic (FloorDiv/FloorMod with int32 constants).
  return [values!, toInt32(ctx, indices!)];
};

/**
 * ArgMax/ArgMin(x, axis). TF.js computes them in int32 whatever output_type says, and every integer constant
 * in a TF.js model is stored as int32, so int32 is what downstream ops expect. Both pick the first index on
 * ties, like ONNX's default select_last_index = 0.
 */
function argReduce(op: 'ArgMax' | 'ArgMin'): OpHandler {
  return (ctx) => {
    const x = ctx.input(0);
    const rank = x.shape?.length;
    let axis = ctx.constInts(1)[0]!;
    if (axis < 0) {
      if (rank === undefined) return ctx.fail('a negative axis needs a known rank');
      axis += rank;
    }
    const shape = x.shape?.filter((_, i) => i !== axis);
    const out = ctx.b.node(op, [x], { axis, keepdims: 0 }, { dtype: 'int64', ...(shape && { shape }) });
    return toInt32(ctx, out);
  };
}

export const miscHandlers: Record<string, OpHandler> = {
  TopKV2: topK,
  ArgMax: argReduce('ArgMax'),
  ArgMin: argReduce('ArgMin'),
};
