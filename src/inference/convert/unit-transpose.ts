import { addInt64s, ints } from './onnx/edit.js';
import type { NodeSpec, TensorValue } from './onnx/proto.js';
import type { ShapeOf } from './squeeze-excite.js';

/**
 * A Transpose that only moves axes of size 1 keeps every value where it was: a Reshape, which onnxruntime runs
 * without copying. A grey image model's NHWC input (gender and emotion: N x 64 x 64 x 1) went through a real
 * Transpose to NCHW on every run (14-17 us of gender's 2 ms per batch of 4). Only on graph inputs: inside the
 * graph onnxruntime cancels Transposes against each other, which a Reshape would stop.
 */
export function unitTransposeAsReshape(nodes: NodeSpec[], initializers: Map<string, TensorValue>, shapeOf: ShapeOf): number {
  const produced = new Set(nodes.flatMap((n) => n.outputs));
  let rewritten = 0;
  for (let idx = 0; idx < nodes.length; idx++) {
    const n = nodes[idx]!;
    const perm = ints(n.attributes.perm);
    const out = shapeOf(n.outputs[0]!);
    if (n.opType !== 'Transpose' || produced.has(n.inputs[0]!) || initializers.has(n.inputs[0]!) || !perm || !out || out.length !== perm.length) continue;
    // The input's shape from the output's (graph inputs have none of their own here): out[i] = in[perm[i]].
    const shape: (number | null)[] = [];
    perm.forEach((axis, i) => { shape[axis] = out[i] ?? null; });
    // Unknown sizes (the batch) count as more than 1; Reshape can infer one of them.
    const moved = perm.filter((axis) => shape[axis] !== 1);
    if (moved.some((axis, i) => i > 0 && axis < moved[i - 1]!) || shape.filter((d) => typeof d !== 'number').length > 1) continue;
    const target = out.map((d) => (typeof d === 'number' ? d : -1));
    nodes[idx] = { opType: 'Reshape', name: `${n.name}/reshape`, inputs: [n.inputs[0]!, addInt64s(initializers, `${n.name}/shape`, target)], outputs: n.outputs, attributes: {} };
    rewritten++;
  }
  return rewritten;
}
