import { addFloats, consumerCounts, floats, int, ints, TO_NHWC } from './onnx/edit.js';
import type { NodeSpec, TensorValue } from './onnx/proto.js';
import type { ShapeOf } from './squeeze-excite.js';

/**
 * A convolution whose only reader is a mean over all its output positions (a classifier head: Conv, then global
 * average pooling) is one linear map of its whole input: a convolution whose kernel covers the input, each tap the
 * sum of the original taps that reach that input position, over the output count. It replaces the pair when
 * that costs fewer multiplications: gender's 3x3 head, 2 classes on 4x4x128, did 9x the work (and onnxruntime
 * pads its 2 outputs to a block of 16), 58 of 2090 us per batch of 4. Exact in real arithmetic; only the order
 * of the sums changes.
 */
export function convMeanAsFullConv(nodes: NodeSpec[], initializers: Map<string, TensorValue>, shapeOf: ShapeOf): number {
  const readers = consumerCounts(nodes);
  const producer = new Map<string, NodeSpec>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
  let rewritten = 0;
  for (let idx = 0; idx < nodes.length; idx++) {
    const mean = nodes[idx]!;
    // keepdims 0: a head's mean; one that keeps its axes became a GlobalAveragePool (spatialMeanAsPool).
    if (mean.opType !== 'ReduceMean' || mean.inputs.length !== 1 || int(mean.attributes.keepdims) !== 0) continue;
    // The mean reads the convolution directly (NCHW, axes 2 and 3) or through its Transpose to NHWC (axes 1 and 2).
    let source = producer.get(mean.inputs[0]!);
    let nhwc = false;
    if (source?.opType === 'Transpose' && ints(source.attributes.perm)?.join() === TO_NHWC.join() && readers.get(source.outputs[0]!) === 1) {
      nhwc = true;
      source = producer.get(source.inputs[0]!);
    }
    const conv = source;
    if (conv?.opType !== 'Conv' || readers.get(conv.outputs[0]!) !== 1) continue;
    const axes = (ints(mean.attributes.axes) ?? []).map((a) => (a < 0 ? a + 4 : a)).sort().join();
    if (axes !== (nhwc ? '1,2' : '2,3')) continue;
    const kernel = fullKernel(conv, initializers, shapeOf);
    if (!kernel) continue;
    const full = `${conv.outputs[0]}/full`;
    const inputs = [conv.inputs[0]!, addFloats(initializers, conv.inputs[1]!, kernel.dims, kernel.data), ...conv.inputs.slice(2)];
    const replaced: NodeSpec = { opType: 'Conv', name: `${conv.name}/full`, inputs, outputs: [full], attributes: { kernel_shape: { kind: 'ints', value: kernel.dims.slice(2) } } };
    const out = mean.outputs[0]!;
    const shaped: NodeSpec = { opType: 'Flatten', name: `${mean.name}/flatten`, inputs: [full], outputs: [out], attributes: { axis: { kind: 'int', value: 1 } } };
    nodes[idx] = shaped;
    nodes[nodes.indexOf(conv)] = replaced;
    if (nhwc) nodes.splice(nodes.indexOf(producer.get(mean.inputs[0]!)!), 1);
    idx = nodes.indexOf(shaped);
    rewritten++;
  }
  return rewritten;
}

/** The kernel [O, C, H, W] of conv followed by the mean, or undefined when the pair is not known or not cheaper. */
function fullKernel(conv: NodeSpec, initializers: ReadonlyMap<string, TensorValue>, shapeOf: ShapeOf): { dims: number[]; data: Float32Array } | undefined {
  const a = conv.attributes;
  const w = initializers.get(conv.inputs[1]!);
  const weight = floats(w);
  const shape = shapeOf(conv.inputs[0]!);
  if (!w || !weight || w.dims.length !== 4 || (int(a.group) ?? 1) !== 1 || a.auto_pad !== undefined) return undefined;
  if (!shape || shape.length !== 4 || typeof shape[2] !== 'number' || typeof shape[3] !== 'number') return undefined;
  if (conv.inputs[2] && !floats(initializers.get(conv.inputs[2]))) return undefined;
  const [o, c, kh, kw] = w.dims as [number, number, number, number];
  const [h, wd] = [shape[2], shape[3]];
  if (shape[1] !== c) return undefined;
  const [sh, sw] = ints(a.strides) ?? [1, 1];
  const [dh, dw] = ints(a.dilations) ?? [1, 1];
  const [pt, pl, pb, pr] = ints(a.pads) ?? [0, 0, 0, 0];
  const ho = Math.floor((h + pt! + pb! - dh! * (kh - 1) - 1) / sh!) + 1;
  const wo = Math.floor((wd + pl! + pr! - dw! * (kw - 1) - 1) / sw!) + 1;
  if (!(ho > 0 && wo > 0) || h * wd >= kh * kw * ho * wo) return undefined;
  const data = new Float64Array(o * c * h * wd);
  for (let i = 0; i < ho; i++) for (let u = 0; u < kh; u++) {
    const y = i * sh! - pt! + u * dh!;
    if (y < 0 || y >= h) continue;
    for (let j = 0; j < wo; j++) for (let v = 0; v < kw; v++) {
      const x = j * sw! - pl! + v * dw!;
      if (x < 0 || x >= wd) continue;
      for (let oc = 0; oc < o; oc++) for (let ic = 0; ic < c; ic++) {
        const at = ((oc * c + ic) * h + y) * wd + x;
        data[at] = data[at]! + weight[((oc * c + ic) * kh + u) * kw + v]!;
      }
    }
  }
  const scale = 1 / (ho * wo);
  return { dims: [o, c, h, wd], data: Float32Array.from(data, (s) => s * scale) };
}
