import { addFloats, floats, int64s, ints } from './onnx/edit.js';
import type { NodeSpec, TensorValue } from './onnx/proto.js';

/**
 * Rewrites on the finished node list that onnxruntime cannot do itself because of the order of its own passes.
 *
 * Zero padding in front of a convolution: TF graphs pad explicitly (Pad, then Conv with VALID), and our NHWC
 * handlers leave Transposes between the two (Pad -> Transpose -> [Transpose ->] Conv). onnxruntime fuses a Pad
 * into a Conv only when they touch, before its transpose optimiser has removed those Transposes, so the Pad
 * survives as a separate copy of the tensor and keeps the convolution out of the blocked NCHWc layout. Folding it
 * into the Conv's own pads is exact: a constant-zero pad of the spatial axes is what Conv's pads mean.
 * Likewise a -Infinity pad in front of a MaxPool (how NanoDet pads its stem's pool), which is what MaxPool's pads
 * mean, as long as each pad is smaller than the window (so that every window holds a real value): the Pad ran in
 * plain NCHW between two Reorders, 2 to 3 ms a run.
 */
export function foldPadsIntoConvs(nodes: NodeSpec[], initializers: ReadonlyMap<string, TensorValue>): number {
  const producer = new Map<string, number>();
  const consumers = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.outputs) producer.set(o, i);
    for (const input of n.inputs) if (input) consumers.set(input, (consumers.get(input) ?? 0) + 1);
  });
  let folded = 0;
  for (let idx = 0; idx < nodes.length; idx++) {
    const conv = nodes[idx]!;
    if ((conv.opType !== 'Conv' && conv.opType !== 'MaxPool') || conv.attributes.auto_pad !== undefined) continue;
    // Walk back through Transposes that feed only this path, composing their permutations:
    // conv input axis j is the Pad's output axis perm[j].
    let perm = [0, 1, 2, 3];
    let first: number | undefined; // the Transpose nearest the Pad, or undefined when the Pad feeds the Conv
    let at = producer.get(conv.inputs[0]!);
    while (at !== undefined && nodes[at]!.opType === 'Transpose' && consumers.get(nodes[at]!.outputs[0]!) === 1) {
      const p = ints(nodes[at]!.attributes.perm);
      if (!p || p.length !== 4) break;
      perm = perm.map((axis) => p[axis]!);
      first = at;
      at = producer.get(nodes[at]!.inputs[0]!);
    }
    if (at === undefined) continue;
    const pad = nodes[at]!;
    if (pad.opType !== 'Pad' || !constantPad(pad, initializers, conv.opType === 'Conv' ? 0 : -Infinity)) continue;
    const p = int64s(initializers.get(pad.inputs[1]!));
    if (!p || p.length !== 8) continue;
    const before = (j: number) => p[perm[j]!]!;
    const after = (j: number) => p[4 + perm[j]!]!;
    // Only the spatial axes of the convolution (2 and 3) may be padded.
    if (before(0) || before(1) || after(0) || after(1)) continue;
    if (conv.opType === 'MaxPool') {
      const k = ints(conv.attributes.kernel_shape);
      const pads = ints(conv.attributes.pads) ?? [0, 0, 0, 0];
      if (!k || k.length !== 2 || [before(2) + pads[0]!, after(2) + pads[2]!].some((v) => v >= k[0]!) || [before(3) + pads[1]!, after(3) + pads[3]!].some((v) => v >= k[1]!)) continue;
    }
    const convPads = ints(conv.attributes.pads) ?? [0, 0, 0, 0];
    if (first === undefined) {
      nodes[idx] = { ...conv, inputs: [pad.inputs[0]!, ...conv.inputs.slice(1)] };
    } else {
      nodes[first] = { ...nodes[first]!, inputs: [pad.inputs[0]!] };
    }
    nodes[idx] = {
      ...nodes[idx]!,
      attributes: { ...conv.attributes, pads: { kind: 'ints', value: [convPads[0]! + before(2), convPads[1]! + before(3), convPads[2]! + after(2), convPads[3]! + after(3)] } },
    };
    folded++;
  }
  return folded;
}

/** A constant Pad by `fill` (0 also when the value is absent; +0 only, as a convolution's pads are). */
function constantPad(pad: NodeSpec, initializers: ReadonlyMap<string, TensorValue>, fill: number): boolean {
  const mode = pad.attributes.mode;
  if (mode && !(mode.kind === 'string' && mode.value === 'constant')) return false;
  const valueName = pad.inputs[2];
  if (!valueName) return fill === 0;
  const value = initializers.get(valueName);
  if (fill === 0) return !!value && value.raw.every((byte) => byte === 0);
  const v = floats(value);
  return !!v && v.length === 1 && v[0] === fill;
}

/**
 * A per-channel Mul or Add right after a convolution (TF's BiasAdd, or batch norm left as Mul + Add) folded into
 * the convolution's weights and bias. onnxruntime's own Conv+Add and Conv+Mul fusions did not fire on these
 * graphs (measured: nanodet kept 34 separate Adds), and every such Add is another pass over the tensor and a
 * break in the fused Conv+activation kernels. Exact up to float rounding: (W*x + b)*s + t = (W*s)*x + (b*s + t).
 */
export function foldChannelOpsIntoConvs(nodes: NodeSpec[], initializers: Map<string, TensorValue>): number {
  let folded = 0;
  for (let changed = true; changed;) {
    changed = false;
    const consumers = new Map<string, number[]>();
    nodes.forEach((n, i) => { for (const input of n.inputs) if (input) consumers.set(input, [...(consumers.get(input) ?? []), i]); });
    for (let idx = 0; idx < nodes.length; idx++) {
      const conv = nodes[idx]!;
      if (conv.opType !== 'Conv') continue;
      const users = consumers.get(conv.outputs[0]!) ?? [];
      if (users.length !== 1) continue;
      const op = nodes[users[0]!]!;
      if (op.opType !== 'Add' && op.opType !== 'Mul') continue;
      const other = op.inputs[0] === conv.outputs[0] ? op.inputs[1]! : op.inputs[0]!;
      const weight = floats(initializers.get(conv.inputs[1]!));
      const outChannels = initializers.get(conv.inputs[1]!)?.dims[0];
      const k = perChannel(initializers.get(other), outChannels);
      if (!weight || !outChannels || !k) continue;
      const bias = conv.inputs[2] ? floats(initializers.get(conv.inputs[2])) : new Float32Array(outChannels);
      if (!bias) continue;
      const inputs = [...conv.inputs];
      if (op.opType === 'Mul') {
        const per = weight.length / outChannels;
        const w = weight.map((v, i) => v * k[Math.floor(i / per)]!);
        inputs[1] = addFloats(initializers, conv.inputs[1]!, initializers.get(conv.inputs[1]!)!.dims, w);
        inputs[2] = addFloats(initializers, `${conv.name}_bias`, [outChannels], bias.map((v, i) => v * k[i]!));
      } else {
        inputs[2] = addFloats(initializers, `${conv.name}_bias`, [outChannels], bias.map((v, i) => v + k[i]!));
      }
      nodes[idx] = { ...conv, inputs, outputs: op.outputs };
      nodes.splice(users[0]!, 1);
      folded++;
      changed = true;
      break;
    }
  }
  return folded;
}

/** The values of a constant that broadcasts per output channel against NCHW ([C], [C,1,1] or [1,C,1,1]); C=1 too. */
function perChannel(t: TensorValue | undefined, channels: number | undefined): Float32Array | undefined {
  const data = floats(t);
  if (!t || !data || !channels) return undefined;
  const dims = t.dims;
  const ok = (dims.length === 4 && dims[0] === 1 && dims[2] === 1 && dims[3] === 1 && (dims[1] === channels || dims[1] === 1))
    || (dims.length === 3 && dims[1] === 1 && dims[2] === 1 && (dims[0] === channels || dims[0] === 1))
    || (data.length === 1 && dims.every((d) => d === 1));
  if (!ok) return undefined;
  return data.length === channels ? data : new Float32Array(channels).fill(data[0]!);
}
