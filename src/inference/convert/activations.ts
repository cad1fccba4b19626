import { addFloats, consumerCounts, floats, ints, replaceNode, TO_NCHW, TO_NHWC, transposeNode } from './onnx/edit.js';
import type { NodeSpec, TensorValue } from './onnx/proto.js';
import type { ShapeOf } from './squeeze-excite.js';

/**
 * Activations rewritten into forms that stay inside onnxruntime's blocked (NCHWc) layout. Only convolutions,
 * pools, Add/Sum, same-shape Mul, Concat and Relu/Sigmoid/Tanh run in that layout; any other op in between costs
 * a Reorder out of it and one back in, on top of its own pass over the tensor.
 */

function scalar(initializers: ReadonlyMap<string, TensorValue>, name: string | undefined): number | undefined {
  const v = name ? floats(initializers.get(name)) : undefined;
  return v && v.length === 1 ? v[0] : undefined;
}

/** A 1x1 depthwise convolution: per-channel scale and shift, the NCHWc way to apply a per-channel constant. */
function channelScale(initializers: Map<string, TensorValue>, name: string, input: string, output: string, scale: Float32Array, shift?: Float32Array): NodeSpec {
  const c = scale.length;
  const inputs = [input, addFloats(initializers, `${name}/w`, [c, 1, 1, 1], scale)];
  if (shift) inputs.push(addFloats(initializers, `${name}/b`, [c], shift));
  return {
    opType: 'Conv', name, inputs, outputs: [output],
    attributes: { group: { kind: 'int', value: c }, kernel_shape: { kind: 'ints', value: [1, 1] } },
  };
}

/**
 * MobileNetV3's hard-swish as TF exports it, (x * k) * relu6(x + 3) with k = 1/6 (or its float16 rounding, each
 * side possibly behind the same Transpose), becomes x * min(max(k * x + 3k, 0), 6k): the second factor is a 1x1
 * depthwise convolution (weight k, bias 3k) with onnxruntime's fused Clip activation, and the product a
 * same-shape Mul, so all of it stays NCHWc (an ONNX HardSwish node would not, and with the float16 k it would not
 * be the same function either). The channel count comes from the convolution that produces x.
 */
export function fuseHardSwish(nodes: NodeSpec[], initializers: Map<string, TensorValue>): number {
  const producer = new Map<string, NodeSpec>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
  const uses = consumerCounts(nodes);
  const through = (name: string | undefined): { node?: NodeSpec; perm?: readonly number[] } => {
    const n = name ? producer.get(name) : undefined;
    if (n?.opType === 'Transpose' && uses.get(name!) === 1) return { node: producer.get(n.inputs[0]!), perm: ints(n.attributes.perm) };
    return { node: n };
  };
  let fused = 0;
  for (let idx = 0; idx < nodes.length; idx++) {
    const mul = nodes[idx]!;
    if (mul.opType !== 'Mul' || mul.inputs.length !== 2) continue;
    const [p, q] = [through(mul.inputs[0]), through(mul.inputs[1])];
    const [scaled, clipped] = p.node?.opType === 'Mul' ? [p, q] : [q, p];
    if (scaled.node?.opType !== 'Mul' || clipped.node?.opType !== 'Clip' || String(scaled.perm) !== String(clipped.perm)) continue;
    const k = scalar(initializers, scaled.node.inputs[1]);
    const x = scaled.node.inputs[0]!;
    const add = producer.get(clipped.node.inputs[0]!);
    if (k === undefined || Math.abs(k - 1 / 6) > 1e-3 || add?.opType !== 'Add' || add.inputs[0] !== x) continue;
    if (scalar(initializers, add.inputs[1]) !== 3 || scalar(initializers, clipped.node.inputs[1]) !== 0 || scalar(initializers, clipped.node.inputs[2]) !== 6) continue;
    const conv = producer.get(x);
    const channels = conv?.opType === 'Conv' ? initializers.get(conv.inputs[1]!)?.dims[0] : undefined;
    if (!channels || (scaled.perm && scaled.perm.join() !== '0,2,3,1')) continue;
    const gate = `${mul.name}/gate`;
    const hs = scaled.perm ? `${mul.name}/hardswish` : mul.outputs[0]!;
    const added: NodeSpec[] = [
      channelScale(initializers, gate, x, `${gate}/pre`, new Float32Array(channels).fill(k), new Float32Array(channels).fill(3 * k)),
      {
        opType: 'Clip', name: `${gate}/clip`, outputs: [gate], attributes: {},
        inputs: [`${gate}/pre`, addFloats(initializers, `${gate}/lo`, [], Float32Array.of(0)), addFloats(initializers, `${gate}/hi`, [], Float32Array.of(6 * k))],
      },
      { opType: 'Mul', name: `${mul.name}/nchw`, inputs: [x, gate], outputs: [hs], attributes: {} },
    ];
    if (scaled.perm) added.push(transposeNode(hs, mul.outputs[0]!, scaled.perm));
    idx = replaceNode(nodes, idx, added);
    fused++;
  }
  return fused;
}

/**
 * PRelu with per-channel slopes a, as x + (1 - a) * relu(-x): a 1x1 depthwise convolution by -1 with a fused Relu,
 * and a 1x1 depthwise convolution by 1 - a that onnxruntime sums into x. Both run in NCHWc, where PRelu does not
 * (and its CPU kernel is slow besides: half of FaceMesh's time went to it). Exact whatever the signs of a: for
 * x >= 0 the result is x + (1 - a) * 0, for x < 0 it is x + (1 - a) * (-x) = a * x. The form
 * relu(x) - a * relu(-x) was one more pass: its Relu(x) could not fuse into x's convolution, which x's other
 * reader needs unactivated (FaceMesh: 28 Relus, 12% of its time).
 */
export function expandPRelu(nodes: NodeSpec[], initializers: Map<string, TensorValue>, shapeOf: ShapeOf): number {
  let expanded = 0;
  for (let idx = 0; idx < nodes.length; idx++) {
    const n = nodes[idx]!;
    // Images only: a dense layer's PRelu ([N, C]) has no convolution layout to stay in.
    if (n.opType !== 'PRelu' || shapeOf(n.inputs[0]!)?.length !== 4) continue;
    const slope = initializers.get(n.inputs[1]!);
    const a = floats(slope);
    if (!slope || !a || a.length < 2) continue;
    const d = slope.dims;
    // Per channel in NCHW ([C,1,1] or [1,C,1,1]) or in NHWC ([C], [1,1,C] or [1,1,1,C]).
    const nchw = d.length >= 3 && d[d.length - 3] === a.length && d[d.length - 1] === 1 && d[d.length - 2] === 1;
    const nhwc = d[d.length - 1] === a.length && d.slice(0, -1).every((v) => v === 1);
    if (!nchw && !nhwc) continue;
    const base = n.name;
    const x = n.inputs[0]!;
    const added: NodeSpec[] = [];
    let input = x;
    if (!nchw) {
      input = `${base}/nchw`;
      added.push(transposeNode(x, input, TO_NCHW));
    }
    const result = nchw ? n.outputs[0]! : `${base}/out_nchw`;
    added.push(
      channelScale(initializers, `${base}/negate`, input, `${base}/neg_pre`, new Float32Array(a.length).fill(-1)),
      { opType: 'Relu', name: `${base}/neg`, inputs: [`${base}/neg_pre`], outputs: [`${base}/neg`], attributes: {} },
      channelScale(initializers, `${base}/slope`, `${base}/neg`, `${base}/scaled`, a.map((v) => 1 - v)),
      { opType: 'Add', name: `${base}/sum`, inputs: [`${base}/scaled`, input], outputs: [result], attributes: {} },
    );
    if (!nchw) added.push(transposeNode(result, n.outputs[0]!, TO_NHWC));
    idx = replaceNode(nodes, idx, added);
    expanded++;
  }
  return expanded;
}

/**
 * Relu(Concat(a, b, ...)) as Concat(Relu(a), Relu(b), ...) when an input comes straight from a convolution
 * (through Transposes) that nothing else reads: its Relu fuses into the convolution, and the Relu pass over the
 * concatenation shrinks to the other inputs (CenterNet's head: a 64-channel convolution output concatenated at
 * 128x128 before a Relu). Exact: Relu acts element by element.
 */
export function reluIntoConcatInputs(nodes: NodeSpec[]): number {
  const producer = new Map<string, NodeSpec>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
  const uses = consumerCounts(nodes);
  const fromConv = (name: string): boolean => {
    let n = producer.get(name);
    while (n?.opType === 'Transpose' && uses.get(n.inputs[0]!) === 1) n = producer.get(n.inputs[0]!);
    return n?.opType === 'Conv';
  };
  let moved = 0;
  for (let idx = 0; idx < nodes.length; idx++) {
    const relu = nodes[idx]!;
    if (relu.opType !== 'Relu') continue;
    const concat = producer.get(relu.inputs[0]!);
    if (concat?.opType !== 'Concat' || uses.get(concat.outputs[0]!) !== 1) continue;
    if (!concat.inputs.some((i) => uses.get(i) === 1 && fromConv(i))) continue;
    const relus = concat.inputs.map((input, k): NodeSpec => ({ opType: 'Relu', name: `${relu.name}/${k}`, inputs: [input], outputs: [`${relu.name}/${k}`], attributes: {} }));
    nodes.splice(nodes.indexOf(concat), 1, ...relus, { ...concat, inputs: relus.map((r) => r.outputs[0]!), outputs: relu.outputs });
    nodes.splice(nodes.indexOf(relu), 1);
    moved++;
    idx = nodes.indexOf(relus[0]!);
  }
  return moved;
}

/**
 * TF's clip_by_value, Max(Min(x, hi), lo) or Min(Max(x, lo), hi) with scalar bounds, as one Clip, which onnxruntime
 * fuses into the convolution before it; a Relu in front goes too when lo >= 0 (relu6 as FaceRes exports it:
 * Relu, Minimum, Maximum). Min and Max have no NCHWc kernels, so each pair cost a Reorder out of the blocked layout
 * and one back in besides its two passes: FaceRes spent 40% of its time there. Exact for finite x.
 */
export function clampAsClip(nodes: NodeSpec[], initializers: Map<string, TensorValue>): number {
  const producer = new Map<string, NodeSpec>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
  const uses = consumerCounts(nodes);
  const bound = (n: NodeSpec): { value: number; other: string } | undefined => {
    if (n.inputs.length !== 2) return undefined;
    const at = n.inputs.findIndex((i) => scalar(initializers, i) !== undefined);
    return at < 0 ? undefined : { value: scalar(initializers, n.inputs[at])!, other: n.inputs[1 - at]! };
  };
  let rewritten = 0;
  for (let idx = 0; idx < nodes.length; idx++) {
    const outer = nodes[idx]!;
    if (outer.opType !== 'Max' && outer.opType !== 'Min') continue;
    const b = bound(outer);
    const inner = b && uses.get(b.other) === 1 ? producer.get(b.other) : undefined;
    const c = inner && inner.opType === (outer.opType === 'Max' ? 'Min' : 'Max') ? bound(inner) : undefined;
    if (!b || !inner || !c) continue;
    const [lo, hi] = outer.opType === 'Max' ? [b.value, c.value] : [c.value, b.value];
    if (!(lo <= hi)) continue;
    let x = c.other;
    const dropped = [inner];
    const relu = uses.get(x) === 1 ? producer.get(x) : undefined;
    if (relu?.opType === 'Relu' && lo >= 0) {
      x = relu.inputs[0]!;
      dropped.push(relu);
    }
    nodes[idx] = {
      opType: 'Clip', name: outer.name, outputs: outer.outputs, attributes: {},
      inputs: [x, addFloats(initializers, `${outer.name}/lo`, [], Float32Array.of(lo)), addFloats(initializers, `${outer.name}/hi`, [], Float32Array.of(hi))],
    };
    for (const d of dropped) nodes.splice(nodes.indexOf(d), 1);
    idx -= dropped.length;
    rewritten++;
  }
  return rewritten;
}
