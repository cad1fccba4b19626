import { addFloats, consumerCounts, int, ints, TO_NHWC, transposeNode } from './onnx/edit.js';
import type { NodeSpec, TensorValue } from './onnx/proto.js';
import type { ShapeOf } from './squeeze-excite.js';

/** Scales a nonzero difference of two floats of one sign far past either of them: beyond 2^24 relative is enough. */
const BIG = 2 ** 32;

const NON_NEGATIVE = new Set(['Sigmoid', 'Relu']);

/**
 * CenterNet's peak picking, h * cast(h == maxpool(h)) with h >= 0 (a sigmoid), as relu(h + BIG (h - maxpool(h))):
 * two 1x1 depthwise convolutions (by -1, then by BIG) that onnxruntime sums with h and ends with the Relu, all in
 * its blocked NCHWc layout. Equal, Cast and Mul have no NCHWc kernels, so the heatmap and its pooled copy each
 * left the layout through a single-threaded Reorder (CenterNet, 80x128x128, 2 threads: 0.9 ms each, and Cast
 * 0.45 ms on one thread). Exact, bit for bit: where h equals its maximum the sum is h + BIG * 0 = h; elsewhere
 * h < m, the difference is at least h * 2^-24 (or at least m / 2 when h <= m / 2), so h + BIG (h - m) < 0 and
 * the Relu gives the 0 the mask gave.
 */
export function peakMaskInBlockedLayout(nodes: NodeSpec[], initializers: Map<string, TensorValue>, shapeOf: ShapeOf): number {
  let rewritten = 0;
  for (let idx = 0; idx < nodes.length; idx++) {
    const producer = new Map<string, NodeSpec>();
    for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
    const uses = consumerCounts(nodes);
    const perm = (n: NodeSpec | undefined) => (n?.opType === 'Transpose' ? ints(n.attributes.perm)?.join() : undefined);
    const mul = nodes[idx]!;
    if (mul.opType !== 'Mul' || mul.inputs.length !== 2) continue;
    const at = mul.inputs.findIndex((i) => producer.get(i)?.opType === 'Cast');
    if (at < 0) continue;
    const h = mul.inputs[1 - at]!;
    const cast = producer.get(mul.inputs[at]!)!;
    const equal = producer.get(cast.inputs[0]!);
    if (int(cast.attributes.to) !== 1 || equal?.opType !== 'Equal' || !equal.inputs.includes(h) || uses.get(cast.outputs[0]!) !== 1 || uses.get(equal.outputs[0]!) !== 1) continue;
    const p = equal.inputs[0] === h ? equal.inputs[1]! : equal.inputs[0]!;
    // NCHW: p = MaxPool(h). NHWC: h = Transpose(hc), p = Transpose(MaxPool(Transpose(h))).
    const nhwc = perm(producer.get(p)) === '0,2,3,1';
    const pool = producer.get(nhwc ? producer.get(p)!.inputs[0]! : p);
    if (pool?.opType !== 'MaxPool' || pool.outputs.length !== 1 || (ints(pool.attributes.strides) ?? [1, 1]).some((s) => s !== 1)) continue;
    const hc = pool.inputs[0]!;
    if (nhwc ? producer.get(hc)?.inputs[0] !== h || perm(producer.get(hc)) !== '0,3,1,2' : hc !== h) continue;
    let source = producer.get(hc);
    while (source?.opType === 'Transpose') source = producer.get(source.inputs[0]!);
    const shape = shapeOf(hc);
    const c = shape?.[1];
    if (!source || !NON_NEGATIVE.has(source.opType) || shape?.length !== 4 || typeof c !== 'number') continue;
    const base = mul.name;
    const t = (s: string) => `${base}/${s}`;
    const scale = (name: string, input: string, value: number): NodeSpec => ({
      opType: 'Conv', name, inputs: [input, addFloats(initializers, name, [c, 1, 1, 1], new Float32Array(c).fill(value))], outputs: [name],
      attributes: { group: { kind: 'int', value: c }, kernel_shape: { kind: 'ints', value: [1, 1] } },
    });
    const result = nhwc ? t('nchw') : mul.outputs[0]!;
    const added: NodeSpec[] = [
      scale(t('negated'), hc, -1),
      { opType: 'Add', name: t('below'), inputs: [t('negated'), pool.outputs[0]!], outputs: [t('below')], attributes: {} },
      scale(t('scaled'), t('below'), -BIG),
      { opType: 'Add', name: t('sum'), inputs: [t('scaled'), hc], outputs: [t('sum')], attributes: {} },
      { opType: 'Relu', name: t('relu'), inputs: [t('sum')], outputs: [result], attributes: {} },
    ];
    if (nhwc) added.push(transposeNode(result, mul.outputs[0]!, TO_NHWC));
    nodes.splice(idx, 1, ...added);
    for (const gone of [cast, equal]) nodes.splice(nodes.indexOf(gone), 1);
    // The pooled map's transpose back to NHWC, if the Equal was its only reader.
    if (nhwc && uses.get(p) === 1) nodes.splice(nodes.indexOf(producer.get(p)!), 1);
    idx = nodes.indexOf(added[added.length - 1]!);
    rewritten++;
  }
  return rewritten;
}
