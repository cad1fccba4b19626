import { floats, int, int64s } from './onnx/edit.js';
import type { NodeSpec, TensorValue } from './onnx/proto.js';
import type { ShapeOf } from './squeeze-excite.js';

/**
 * A bilinear Resize to exactly half the height and width with half-pixel centres samples at 2o + 0.5, the middle
 * of each 2x2 block, with weights 1/2 and 1/2 on both axes: a 2x2 average pool with stride 2. onnxruntime's
 * NCHWc Upsample only enlarges, so the Resize ran in plain NCHW with a Reorder out of the blocked layout and one
 * back in (NanoDet's feature pyramid, twice); its AveragePool is blocked. The same sums, in another order (within
 * a rounding; NanoDet's outputs came out bit-identical).
 */
export function halvingResizeAsPool(nodes: NodeSpec[], initializers: ReadonlyMap<string, TensorValue>, shapeOf: ShapeOf): number {
  let rewritten = 0;
  for (let idx = 0; idx < nodes.length; idx++) {
    const n = nodes[idx]!;
    if (n.opType !== 'Resize' || !isString(n.attributes.mode, 'linear') || !isString(n.attributes.coordinate_transformation_mode, 'half_pixel')) continue;
    if ((int(n.attributes.antialias) ?? 0) !== 0 || n.inputs[1]) continue;
    const shape = shapeOf(n.inputs[0]!);
    if (shape?.length !== 4 || shape.some((d) => d === null)) continue;
    const [batch, c, h, w] = shape as number[];
    if (h! % 2 !== 0 || w! % 2 !== 0) continue;
    const sizes = n.inputs[3] ? int64s(initializers.get(n.inputs[3])) : undefined;
    const scales = !n.inputs[3] && n.inputs[2] ? floats(initializers.get(n.inputs[2])) : undefined;
    const halves = sizes ? String(sizes) === String([batch, c, h! / 2, w! / 2]) : String(scales ? [...scales] : '') === '1,1,0.5,0.5';
    if (!halves) continue;
    nodes[idx] = {
      opType: 'AveragePool', name: n.name, inputs: [n.inputs[0]!], outputs: n.outputs,
      attributes: { kernel_shape: { kind: 'ints', value: [2, 2] }, strides: { kind: 'ints', value: [2, 2] } },
    };
    rewritten++;
  }
  return rewritten;
}

function isString(a: NodeSpec['attributes'][string] | undefined, value: string): boolean {
  return a?.kind === 'string' && a.value === value;
}
