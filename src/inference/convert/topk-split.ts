import { addInt64s, int, int64s } from './onnx/edit.js';
import type { NodeSpec, TensorValue } from './onnx/proto.js';
import type { ShapeOf } from './squeeze-excite.js';

/** Rows a long TopK is cut into: enough for onnxruntime's threads, few enough that the second pass stays small. */
const ROWS = 8;
/** Shorter inputs are left alone: their TopK is already cheap. */
const MIN_LENGTH = 1 << 16;

/**
 * A sorted TopK over one long row ([1, N] or [N], CenterNet's 1.3 M heatmap scores) as a TopK per row of an
 * [8, N/8] view, then a TopK over the 8k candidates, whose indices pick the winners' original indices.
 * onnxruntime runs TopK's rows on its threads, one row on one thread only (1.3 ms of CenterNet's 2-thread run).
 * Exact, ties included: each winner is among the k best of its own row, and the candidates stand in the order of
 * their original indices wherever their values are equal (rows in order, each row sorted with ties by index), so
 * the second TopK's tie-break by position is the original's tie-break by index.
 */
export function splitLongTopK(nodes: NodeSpec[], initializers: Map<string, TensorValue>, shapeOf: ShapeOf): number {
  let split = 0;
  for (let idx = 0; idx < nodes.length; idx++) {
    const top = nodes[idx]!;
    if (top.opType !== 'TopK' || top.inputs.length !== 2 || top.outputs.length !== 2) continue;
    const shape = shapeOf(top.inputs[0]!);
    const k = int64s(initializers.get(top.inputs[1]!));
    if (!shape || !k || k.length !== 1 || shape.some((d) => d === null)) continue;
    const dims = shape as readonly number[];
    const n = dims[dims.length - 1]!;
    const axis = int(top.attributes.axis) ?? -1;
    if (dims.slice(0, -1).some((d) => d !== 1) || (axis !== -1 && axis !== dims.length - 1)) continue;
    if ((int(top.attributes.sorted) ?? 1) !== 1 || n < MIN_LENGTH || n % ROWS !== 0 || n / ROWS < k[0]!) continue;
    const base = top.name;
    const outShape = [...dims.slice(0, -1), k[0]!];
    const t = (s: string) => `${base}/${s}`;
    const offsets = Array.from({ length: ROWS }, (_, r) => r * (n / ROWS));
    const offsetInit = addInt64s(initializers, t('offsets'), offsets);
    initializers.set(offsetInit, { ...initializers.get(offsetInit)!, dims: [ROWS, 1] });
    const reshape = (input: string, output: string, dims: readonly number[]): NodeSpec => ({
      opType: 'Reshape', name: `${output}/reshape`, inputs: [input, addInt64s(initializers, `${output}/shape`, dims)], outputs: [output], attributes: {},
    });
    const topk = (input: string, values: string, indices: string): NodeSpec => ({ ...top, name: values, inputs: [input, top.inputs[1]!], outputs: [values, indices], attributes: { ...top.attributes, axis: { kind: 'int', value: -1 } } });
    idx = nodes.indexOf(top);
    nodes.splice(idx, 1,
      reshape(top.inputs[0]!, t('rows'), [ROWS, n / ROWS]),
      topk(t('rows'), t('row_values'), t('row_indices')),
      { opType: 'Add', name: t('global'), inputs: [t('row_indices'), offsetInit], outputs: [t('global')], attributes: {} },
      reshape(t('row_values'), t('candidates'), [1, ROWS * k[0]!]),
      reshape(t('global'), t('candidate_indices'), [1, ROWS * k[0]!]),
      topk(t('candidates'), t('values'), t('picked')),
      { opType: 'GatherElements', name: t('indices'), inputs: [t('candidate_indices'), t('picked')], outputs: [t('indices')], attributes: { axis: { kind: 'int', value: 1 } } },
      reshape(t('values'), top.outputs[0]!, outShape),
      reshape(t('indices'), top.outputs[1]!, outShape),
    );
    idx += 8;
    split++;
  }
  return split;
}
