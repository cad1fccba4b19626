import { addFloats, consumerCounts, floats, int, int64s, ints, replaceNode, TO_NCHW, TO_NHWC, transposeNode } from './onnx/edit.js';
import type { NodeSpec, TensorValue } from './onnx/proto.js';

/**
 * Squeeze-and-excitation blocks (MobileNetV3, CenterNet's backbone, the MediaPipe segmenters): a spatial mean, two
 * 1x1 convolutions, a gate, and the input scaled per channel by the gate. As TF exports them, each block leaves
 * onnxruntime's blocked NCHWc layout three times (ReduceMean, the gate's scalar Mul, the broadcast Mul), each
 * time with a Reorder out and back. These rewrites give every step an NCHWc form.
 */

export type ShapeOf = (name: string) => readonly (number | null)[] | undefined;

/**
 * ReduceMean over the two spatial axes, keeping them, is GlobalAveragePool, which onnxruntime runs in NCHWc. In
 * NHWC (axes 1 and 2) it goes between two Transposes that onnxruntime cancels with their neighbours.
 */
export function spatialMeanAsPool(nodes: NodeSpec[], shapeOf: ShapeOf): number {
  let rewritten = 0;
  for (let idx = 0; idx < nodes.length; idx++) {
    const n = nodes[idx]!;
    if (n.opType !== 'ReduceMean' || n.inputs.length !== 1 || (int(n.attributes.keepdims) ?? 1) !== 1) continue;
    if (shapeOf(n.inputs[0]!)?.length !== 4) continue;
    const axes = (ints(n.attributes.axes) ?? []).map((a) => (a < 0 ? a + 4 : a)).sort().join();
    if (axes === '2,3') {
      nodes[idx] = { ...n, opType: 'GlobalAveragePool', attributes: {} };
    } else if (axes === '1,2') {
      idx = replaceNode(nodes, idx, [
        transposeNode(n.inputs[0]!, `${n.name}/nchw`, TO_NCHW),
        { opType: 'GlobalAveragePool', name: `${n.name}/pool`, inputs: [`${n.name}/nchw`], outputs: [`${n.name}/pooled`], attributes: {} },
        transposeNode(`${n.name}/pooled`, n.outputs[0]!, TO_NHWC),
      ]);
    } else {
      continue;
    }
    rewritten++;
  }
  return rewritten;
}

/**
 * Mul(Clip(x, lo, hi), k) with a positive scalar k becomes Clip(Mul(x, k), k lo, k hi), the same function, so
 * that the scale can fold into the convolution before it and the Clip becomes that convolution's fused
 * activation (MobileNetV3's hard-sigmoid gate, relu6(x + 3) / 6, then costs no pass of its own).
 */
export function scaleBeforeClip(nodes: NodeSpec[], initializers: Map<string, TensorValue>): number {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => producer.set(o, i)));
  const uses = consumerCounts(nodes);
  let moved = 0;
  for (let idx = 0; idx < nodes.length; idx++) {
    const mul = nodes[idx]!;
    if (mul.opType !== 'Mul') continue;
    const at = mul.inputs.findIndex((i) => nodes[producer.get(i) ?? -1]?.opType === 'Clip');
    if (at < 0 || uses.get(mul.inputs[at]!) !== 1) continue;
    const k = floats(initializers.get(mul.inputs[1 - at]!));
    const ci = producer.get(mul.inputs[at]!)!;
    const clip = nodes[ci]!;
    const lo = floats(initializers.get(clip.inputs[1] ?? ''));
    const hi = floats(initializers.get(clip.inputs[2] ?? ''));
    if (!k || k.length !== 1 || !(k[0]! > 0) || !lo || !hi || lo.length !== 1 || hi.length !== 1) continue;
    const scaled = `${mul.name}/scaled`;
    nodes[ci] = { ...mul, inputs: [clip.inputs[0]!, mul.inputs[1 - at]!], outputs: [scaled] };
    nodes[idx] = {
      ...clip, outputs: mul.outputs,
      inputs: [scaled, addFloats(initializers, `${clip.name}/lo`, [], Float32Array.of(lo[0]! * k[0]!)), addFloats(initializers, `${clip.name}/hi`, [], Float32Array.of(hi[0]! * k[0]!))],
    };
    moved++;
  }
  return moved;
}

/** Shapes of the values the earlier rewrites created, through the same-shape and layout ops that produce them. */
function shapesThrough(nodes: readonly NodeSpec[], shapeOf: ShapeOf): ShapeOf {
  const producer = new Map<string, NodeSpec>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
  const sameShape = new Set(['Mul', 'Add', 'Relu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Conv']);
  const infer = (name: string, depth: number): readonly (number | null)[] | undefined => {
    const known = shapeOf(name);
    const n = producer.get(name);
    if (known || !n || depth > 8) return known;
    if (n.opType === 'Transpose') {
      const s = infer(n.inputs[0]!, depth + 1);
      const perm = ints(n.attributes.perm);
      return s && perm ? perm.map((p) => s[p]!) : undefined;
    }
    // A 1x1 depthwise convolution (the rewrites' per-channel scale) keeps its input's shape.
    if (sameShape.has(n.opType) && (n.opType !== 'Conv' || (int(n.attributes.group) ?? 1) > 1)) return infer(n.inputs[0]!, depth + 1);
    return undefined;
  };
  return (name) => infer(name, 0);
}

/**
 * The excitation, x * gate with the gate one value per channel ([N,C,1,1] against [N,C,H,W], or the same in
 * NHWC): onnxruntime's NCHWc Mul takes only equal shapes, so the gate is first spread over H x W by a
 * nearest-neighbour Resize, which onnxruntime runs in NCHWc. Exact (it copies). Only for fully known shapes: with
 * a symbolic batch onnxruntime could not prove the two shapes equal and would leave the Mul in NCHW after all.
 * An NHWC Mul moves to NCHW between Transposes that onnxruntime cancels with their neighbours.
 */
export function spreadChannelGates(nodes: NodeSpec[], initializers: Map<string, TensorValue>, shapeOf: ShapeOf): number {
  const shape = shapesThrough(nodes, shapeOf);
  const producer = new Map<string, NodeSpec>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
  let spread = 0;
  for (let idx = 0; idx < nodes.length; idx++) {
    const mul = nodes[idx]!;
    if (mul.opType !== 'Mul' || mul.inputs.length !== 2) continue;
    const [a, b] = mul.inputs as [string, string];
    const [sa, sb] = [shape(a), shape(b)];
    if (sa?.length !== 4 || sb?.length !== 4 || [...sa, ...sb].some((d) => d === null)) continue;
    const gateOf = (g: readonly (number | null)[], x: readonly (number | null)[], c: number, h: number, w: number) =>
      g[0] === x[0] && g[c] === x[c] && g[h] === 1 && g[w] === 1 && (x[h]! > 1 || x[w]! > 1);
    const nchw = gateOf(sa, sb, 1, 2, 3) ? 'a' : gateOf(sb, sa, 1, 2, 3) ? 'b' : undefined;
    const nhwc = gateOf(sa, sb, 3, 1, 2) ? 'a' : gateOf(sb, sa, 3, 1, 2) ? 'b' : undefined;
    if (!nchw === !nhwc) continue;
    const gateFirst = (nchw ?? nhwc) === 'a';
    const [gate, x] = gateFirst ? [a, b] : [b, a];
    const xs = gateFirst ? sb : sa;
    const [h, w] = nchw ? [xs[2]!, xs[3]!] : [xs[1]!, xs[2]!];
    const added: NodeSpec[] = [];
    /** The NCHW view of an NHWC value: the input of the Transpose that made it, or a new Transpose. */
    const toNchw = (v: string): string => {
      if (nchw) return v;
      const t = producer.get(v);
      if (t?.opType === 'Transpose' && ints(t.attributes.perm)?.join() === '0,2,3,1') return t.inputs[0]!;
      added.push(transposeNode(v, `${v}/nchw`, TO_NCHW));
      return `${v}/nchw`;
    };
    const [g, xv] = [toNchw(gate), toNchw(x)];
    const scales = addFloats(initializers, `${mul.name}/scales`, [4], Float32Array.of(1, 1, h, w));
    const out = nhwc ? `${mul.name}/nchw` : mul.outputs[0]!;
    added.push(
      {
        opType: 'Resize', name: `${mul.name}/spread`, inputs: [g, '', scales], outputs: [`${mul.name}/spread`],
        attributes: { mode: { kind: 'string', value: 'nearest' }, coordinate_transformation_mode: { kind: 'string', value: 'asymmetric' }, nearest_mode: { kind: 'string', value: 'floor' } },
      },
      { ...mul, inputs: [xv, `${mul.name}/spread`], outputs: [out] },
    );
    if (nhwc) added.push(transposeNode(out, mul.outputs[0]!, TO_NHWC));
    idx = replaceNode(nodes, idx, added);
    spread++;
  }
  return spread;
}

/**
 * A dense layer on a pooled vector, Reshape([N,1,1,C] -> [N,C]) -> Gemm -> Reshape(-> [N,1,1,D]), as a 1x1
 * convolution between Transposes (the Google Meet segmenter's excitation layers are written so). The convolution
 * keeps the block in NCHWc, and a per-channel bias Add right after it folds into the convolution. Exact up to the
 * order of the dot products' additions.
 */
export function denseOnPooledAsConv(nodes: NodeSpec[], initializers: Map<string, TensorValue>, shapeOf: ShapeOf): number {
  let rewritten = 0;
  while (denseOnce(nodes, initializers, shapeOf)) rewritten++;
  return rewritten;
}

function denseOnce(nodes: NodeSpec[], initializers: Map<string, TensorValue>, shapeOf: ShapeOf): boolean {
  const producer = new Map<string, NodeSpec>();
  const consumer = new Map<string, NodeSpec>();
  for (const n of nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const input of n.inputs) consumer.set(input, n);
  }
  const uses = consumerCounts(nodes);
  for (const gemm of nodes) {
    if (gemm.opType !== 'Gemm' || uses.get(gemm.outputs[0]!) !== 1) continue;
    const flat = producer.get(gemm.inputs[0]!);
    const after = consumer.get(gemm.outputs[0]!);
    if (flat?.opType !== 'Reshape' || after?.opType !== 'Reshape' || uses.get(flat.outputs[0]!) !== 1) continue;
    const pooled = shapeOf(flat.inputs[0]!);
    const w = initializers.get(gemm.inputs[1]!);
    const weight = floats(w);
    if (pooled?.length !== 4 || pooled[1] !== 1 || pooled[2] !== 1 || !w || !weight || w.dims.length !== 2) continue;
    if ((int(gemm.attributes.transA) ?? 0) !== 0 || (gemm.attributes.alpha && gemm.attributes.alpha.value !== 1)) continue;
    const transB = (int(gemm.attributes.transB) ?? 0) === 1;
    const [c, d] = transB ? [w.dims[1]!, w.dims[0]!] : [w.dims[0]!, w.dims[1]!];
    const target = int64s(initializers.get(after.inputs[1]!));
    if (pooled[3] !== c || !target || target.length !== 4 || target[1] !== 1 || target[2] !== 1 || target[3] !== d) continue;
    let bias = gemm.inputs[2] ? floats(initializers.get(gemm.inputs[2])) : new Float32Array(d);
    if (!bias || bias.length !== d || (gemm.attributes.beta && gemm.attributes.beta.value !== 1)) continue;
    // Conv weights [D, C, 1, 1]: the Gemm's B transposed unless it already is.
    const oc = new Float32Array(c * d);
    for (let i = 0; i < c; i++) for (let j = 0; j < d; j++) oc[j * c + i] = transB ? weight[j * c + i]! : weight[i * d + j]!;
    const removed = new Set([gemm, after]);
    let outputs = after.outputs;
    const next = consumer.get(after.outputs[0]!);
    const k = next?.opType === 'Add' && uses.get(after.outputs[0]!) === 1 ? floats(initializers.get(next.inputs.find((i) => i !== after.outputs[0])!)) : undefined;
    if (next && k && k.length === d) {
      bias = bias.map((v, i) => v + k[i]!);
      outputs = next.outputs;
      removed.add(next);
    }
    const base = gemm.name;
    const replacement: NodeSpec[] = [
      transposeNode(flat.inputs[0]!, `${base}/nchw`, TO_NCHW),
      {
        opType: 'Conv', name: `${base}/conv`, outputs: [`${base}/conv`], attributes: { kernel_shape: { kind: 'ints', value: [1, 1] } },
        inputs: [`${base}/nchw`, addFloats(initializers, `${base}/w`, [d, c, 1, 1], oc), addFloats(initializers, `${base}/b`, [d], bias)],
      },
      transposeNode(`${base}/conv`, outputs[0]!, TO_NHWC),
    ];
    const at = nodes.indexOf(gemm);
    const kept = nodes.flatMap((n, i) => (i === at ? replacement : removed.has(n) ? [] : [n]));
    nodes.splice(0, nodes.length, ...kept);
    return true;
  }
  return false;
}
