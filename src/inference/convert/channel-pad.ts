import { addFloats, addInt64s, floats, int, int64s, ints, TO_NCHW, TO_NHWC, transposeNode } from './onnx/edit.js';
import type { AttributeValue, NodeSpec, TensorValue } from './onnx/proto.js';

/**
 * Channel padding for onnxruntime's blocked layout.
 *
 * On x86 onnxruntime runs convolutions in NCHWc: channels in blocks of 16 (AVX-512) or 8 (AVX2). A convolution
 * whose input channels are not a multiple of the block (a depthwise one, or one reading 24 channels) keeps the
 * plain NCHW kernels, which are several times slower, and every tensor crossing between the two layouts pays a
 * Reorder. MediaPipe and MobileNetV3 networks are full of 24-, 72- or 88-channel layers.
 *
 * The rewrite widens such convolutions to a multiple of 16 output channels with zero weights and zero bias, and
 * carries the wider tensor ("lane": the channel axis, the true channel count, the physical width, and whether the
 * extra channels are known to hold zeros) through the ops that act per channel: activations, residual Adds,
 * per-channel constants (padded to match), depthwise convolutions (more groups, zero filters), pools, spatial
 * resizes, transposes, and the channel Pad that BlazeFace and FaceMesh use to widen their residuals (which
 * becomes a 1x1 convolution by an identity matrix, see widenByConv). A convolution reading a widened tensor gets
 * zero weights for the extra input channels, so what is in them never reaches a true channel. Anything else
 * (reshapes, matmuls, softmax, graph outputs) reads a Slice back to the true channels.
 *
 * Exact: the true channels see the same arithmetic as before; the extra ones only ever meet zero weights. The
 * extra channels must stay finite for that (0 * Inf is NaN), so only ops that keep finite values finite pass a
 * lane through; a division by a lane is refused.
 */
export const CHANNEL_BLOCK = 16;

interface Lane {
  axis: number;
  rank: number;
  /** True channel count. */
  real: number;
  /** Physical channel count (>= real); channels [real, width) are padding. */
  width: number;
  /** The padding channels hold exact zeros. */
  zero: boolean;
  /** The widened convolutions (or Pads) whose extra channels this value carries. */
  origins: readonly string[];
}

type Outcome = { node: NodeSpec | NodeSpec[]; lane?: Lane } | 'reject';

const roundUp = (n: number) => Math.ceil(n / CHANNEL_BLOCK) * CHANNEL_BLOCK;

/** Unary ops that map finite values to finite values, and whether they map 0 to 0. */
const unary: Record<string, boolean> = {
  Relu: true, LeakyRelu: true, Elu: true, Tanh: true, Neg: true, Abs: true, HardSwish: true,
  Sigmoid: false, HardSigmoid: false,
};

/** Convolutions with more output channels than this, not a multiple of the block, are widened. */
const MIN_CHANNELS = 16;

/**
 * Narrower convolutions (NARROW..MIN_CHANNELS channels) are widened too when only depthwise and 1x1 convolutions
 * read them: onnxruntime pads their output to a block anyway, and keeping it blocked saves a Reorder per reader
 * and lets a 1x1 reader use the NCHWc kernel (gender's 8-channel stem: 11% of its kernel time). A full 3x3
 * reader would instead do its whole block of input channels, 2x the work at 8 channels, more than it saves.
 */
const NARROW = 8;

/**
 * Widens where it pays: a first pass on a copy finds which widened outputs reach an op that needs aligned
 * channels (a convolution or pool reading them); the second widens only those. A widened output that only ever
 * met a Slice (a head feeding a reshape, ESRGAN's pixel shuffle) would cost a copy and win nothing.
 */
export function padChannels(nodes: NodeSpec[], initializers: Map<string, TensorValue>): number {
  const trial = widenLanes([...nodes], new Map(initializers), () => true);
  return widenLanes(nodes, initializers, (name) => trial.useful.has(name) && !trial.costly.has(name)).widened;
}

function widenLanes(nodes: NodeSpec[], initializers: Map<string, TensorValue>, mayWiden: (name: string) => boolean): { widened: number; useful: Set<string>; costly: Set<string> } {
  const lanes = new Map<string, Lane>();
  const sliced = new Map<string, string>();
  const out: NodeSpec[] = [];
  const useful = new Set<string>();
  /** Narrow widened convolutions read by a full spatial convolution, or by anything but a convolution (see NARROW). */
  const costly = new Set<string>();
  const uses = (lane: Lane | undefined, byConv = false) => lane?.origins.forEach((o) => {
    useful.add(o);
    if (!byConv && lane.real < CHANNEL_BLOCK) costly.add(o);
  });
  let widened = 0;

  /** The value with its true channels only: the input every op that does not know about lanes reads. */
  const real = (name: string): string => {
    const lane = lanes.get(name);
    if (!lane || lane.width === lane.real) return name;
    let s = sliced.get(name);
    if (!s) {
      s = `${name}__real`;
      out.push({
        opType: 'Slice', name: `${name}__slice`, outputs: [s], attributes: {},
        inputs: [name, addInt64s(initializers, 'starts', [0]), addInt64s(initializers, 'ends', [lane.real]), addInt64s(initializers, 'axes', [lane.axis])],
      });
      sliced.set(name, s);
    }
    return s;
  };

  /** A constant that broadcasts per channel against `lane`, padded to its width with `fill`; undefined if it does not. */
  const perChannel = (name: string, lane: Lane, fill: number): { name: string; zero: boolean } | undefined => {
    const t = initializers.get(name);
    const data = floats(t);
    if (!t || !data) return undefined;
    if (data.length === 1) return { name, zero: data[0] === 0 };
    const at = lane.axis - (lane.rank - t.dims.length);
    if (at < 0 || t.dims[at] !== lane.real || data.length !== lane.real) return undefined;
    if (lane.width === lane.real) return { name, zero: true };
    const padded = new Float32Array(lane.width).fill(fill);
    padded.set(data);
    const dims = [...t.dims];
    dims[at] = lane.width;
    return { name: addFloats(initializers, name, dims, padded), zero: true };
  };

  const rewrite = (node: NodeSpec, ins: (Lane | undefined)[]): Outcome => {
    const x = ins[0];
    const attrs = node.attributes;
    switch (node.opType) {
      case 'Conv': return conv(node, x);
      case 'Transpose': {
        const perm = ints(attrs.perm);
        if (!x || !perm) return 'reject';
        return { node, lane: { ...x, axis: perm.indexOf(x.axis) } };
      }
      case 'Clip': {
        if (!x) return 'reject';
        const [lo, hi] = [floats(initializers.get(node.inputs[1] ?? '')), floats(initializers.get(node.inputs[2] ?? ''))];
        if ((node.inputs[1] && !lo) || (node.inputs[2] && !hi)) return 'reject';
        return { node, lane: { ...x, zero: x.zero && (!lo || lo[0]! <= 0) && (!hi || hi[0]! >= 0) } };
      }
      case 'MaxPool': case 'AveragePool': case 'GlobalAveragePool': case 'GlobalMaxPool':
        if (!x || x.axis !== 1) return 'reject';
        uses(x);
        return { node, lane: x };
      case 'ReduceMean': case 'ReduceMax': {
        const axes = ints(attrs.axes);
        if (!x || !axes || node.inputs.length > 1) return 'reject';
        const norm = axes.map((a) => (a < 0 ? a + x.rank : a));
        if (norm.includes(x.axis)) return 'reject';
        const keep = (int(attrs.keepdims) ?? 1) === 1;
        return { node, lane: keep ? x : { ...x, axis: x.axis - norm.filter((a) => a < x.axis).length, rank: x.rank - norm.length } };
      }
      case 'Resize': return resize(node, x);
      case 'Pad': return pad(node, x);
      case 'Concat': return concat(node, ins);
      case 'PRelu': {
        const k = x && perChannel(node.inputs[1]!, x, 0);
        return k ? { node: { ...node, inputs: [node.inputs[0]!, k.name] }, lane: x } : 'reject';
      }
      case 'Add': case 'Sub': case 'Mul': case 'Max': case 'Min': case 'Sum': case 'Div':
        return binary(node, ins);
      default:
        if (node.opType in unary && x && node.inputs.length === 1) return { node, lane: { ...x, zero: x.zero && unary[node.opType]! } };
        return 'reject';
    }
  };

  const binary = (node: NodeSpec, ins: (Lane | undefined)[]): Outcome => {
    const lane = ins.find((l) => l);
    if (!lane) return 'reject';
    const inputs: string[] = [];
    const origins: string[] = [];
    let zeros = 0;
    for (let i = 0; i < node.inputs.length; i++) {
      const l = ins[i];
      if (l) {
        if (l.axis !== lane.axis || l.rank !== lane.rank || l.real !== lane.real || l.width !== lane.width) return 'reject';
        origins.push(...l.origins);
        if (node.opType === 'Div' && i === 1) return 'reject';
        inputs.push(node.inputs[i]!);
        if (l.zero) zeros++;
        continue;
      }
      const k = perChannel(node.inputs[i]!, lane, node.opType === 'Div' ? 1 : 0);
      if (!k) return 'reject';
      inputs.push(k.name);
      if (k.zero) zeros++;
    }
    const zero = node.opType === 'Mul' ? zeros > 0 : node.opType === 'Div' ? !!ins[0]?.zero : zeros === inputs.length;
    return { node: { ...node, inputs }, lane: { ...lane, zero, origins: [...new Set(origins)] } };
  };

  const conv = (node: NodeSpec, x: Lane | undefined): Outcome => {
    const w = initializers.get(node.inputs[1]!);
    let weight = floats(w);
    if (!w || !weight || w.dims.length !== 4) return 'reject';
    const group = int(node.attributes.group) ?? 1;
    const [o, i] = w.dims as [number, number, number, number];
    const dims = [...w.dims];
    let bias = node.inputs[2] ? floats(initializers.get(node.inputs[2])) : undefined;
    if (node.inputs[2] && !bias) return 'reject';
    const attributes: Record<string, AttributeValue> = { ...node.attributes };
    let lane: Lane;
    if (x && x.width > x.real) {
      if (x.axis !== 1) return 'reject';
      if (group === 1 && i === x.real) {
        if (x.real < CHANNEL_BLOCK && dims[2]! * dims[3]! > 1) x.origins.forEach((name) => costly.add(name));
        weight = widen(weight, dims, 1, x.width);
        dims[1] = x.width;
        uses(x, true);
      } else if (group === x.real && i === 1 && o === x.real) {
        // Depthwise: one more zero filter per extra channel.
        weight = widen(weight, dims, 0, x.width);
        dims[0] = x.width;
        bias = bias && widen(bias, [o], 0, x.width);
        attributes.group = { kind: 'int', value: x.width };
        uses(x, true);
        lane = { axis: 1, rank: 4, real: o, width: x.width, zero: true, origins: x.origins };
        return { node: withWeights(node, attributes, dims, weight, bias), lane };
      } else {
        return 'reject';
      }
    }
    if (group === 1 && o % CHANNEL_BLOCK !== 0 && (o > MIN_CHANNELS || o >= NARROW) && mayWiden(node.name)) {
      const width = roundUp(o);
      weight = widen(weight, dims, 0, width);
      dims[0] = width;
      bias = bias && widen(bias, [o], 0, width);
      widened++;
      lane = { axis: 1, rank: 4, real: o, width, zero: true, origins: [node.name] };
    } else {
      lane = { axis: 1, rank: 4, real: o, width: o, zero: true, origins: [] };
    }
    const changed = dims[0] !== w.dims[0] || dims[1] !== w.dims[1];
    return { node: changed ? withWeights(node, attributes, dims, weight, bias) : node, lane };
  };

  const withWeights = (node: NodeSpec, attributes: Record<string, AttributeValue>, dims: number[], weight: Float32Array, bias: Float32Array | undefined): NodeSpec => {
    const inputs = [node.inputs[0]!, addFloats(initializers, node.inputs[1]!, dims, weight)];
    if (bias) inputs.push(addFloats(initializers, node.inputs[2]!, [bias.length], bias));
    return { ...node, inputs, attributes };
  };

  const resize = (node: NodeSpec, x: Lane | undefined): Outcome => {
    if (!x) return 'reject';
    const [, roi, scales, sizes] = node.inputs;
    if (roi) return 'reject';
    if (sizes) {
      const s = int64s(initializers.get(sizes));
      if (!s || s.length !== x.rank || s[x.axis] !== x.real) return 'reject';
      s[x.axis] = x.width;
      return { node: { ...node, inputs: [node.inputs[0]!, '', '', addInt64s(initializers, sizes, s)] }, lane: x };
    }
    const f = scales ? floats(initializers.get(scales)) : undefined;
    return f && f[x.axis] === 1 ? { node, lane: x } : 'reject';
  };

  const pad = (node: NodeSpec, x: Lane | undefined): Outcome => {
    if (!x) return 'reject';
    const mode = node.attributes.mode;
    if (mode && !(mode.kind === 'string' && mode.value === 'constant')) return 'reject';
    const p = int64s(initializers.get(node.inputs[1]!));
    if (!p || p.length !== 2 * x.rank || node.inputs[3]) return 'reject';
    const value = node.inputs[2] ? floats(initializers.get(node.inputs[2])) : new Float32Array(1);
    if (!value || value.length !== 1) return 'reject';
    const before = p[x.axis]!;
    const after = p[x.rank + x.axis]!;
    if (after === 0 && before === 0) return { node, lane: { ...x, zero: x.zero && value[0] === 0 } };
    if (before !== 0 || value[0] !== 0) return 'reject';
    const realOut = x.real + after;
    const round = realOut % CHANNEL_BLOCK !== 0 && realOut > MIN_CHANNELS && mayWiden(node.name);
    const width = Math.max(x.width, round ? roundUp(realOut) : realOut);
    const lane = { ...x, real: realOut, width, zero: true, origins: round ? [...x.origins, node.name] : x.origins };
    if (x.rank === 4 && (x.axis === 1 || x.axis === 3) && p.every((v, i) => v === 0 || i % x.rank === x.axis)) {
      uses(x);
      return { node: widenByConv(node, x, width), lane };
    }
    // Widening in place: the new channels go where the padding already is, which must hold zeros.
    if (x.width > x.real && !x.zero) return 'reject';
    const pads = [...p];
    pads[x.rank + x.axis] = width - x.width;
    if (pads.every((v) => v === 0)) return { node: { ...node, opType: 'Identity', inputs: [node.inputs[0]!], attributes: {} }, lane };
    return { node: { ...node, inputs: [node.inputs[0]!, addInt64s(initializers, node.inputs[1]!, pads), ...node.inputs.slice(2)] }, lane };
  };

  /**
   * A zero Pad of the channels only (BlazeFace and FaceMesh widen their residuals so) as a 1x1 convolution by an
   * identity matrix: onnxruntime has no NCHWc Pad, so the Pad sent the whole residual chain after it back to
   * NCHW; the convolution stays in NCHWc and the Add after it fuses into the other branch's convolution. Exact:
   * each output channel is one input times 1 plus zeros.
   */
  const widenByConv = (node: NodeSpec, x: Lane, width: number): NodeSpec[] => {
    const eye = new Float32Array(width * x.width);
    for (let c = 0; c < x.real; c++) eye[c * x.width + c] = 1;
    const weight = addFloats(initializers, `${node.name}/eye`, [width, x.width, 1, 1], eye);
    const conv = (input: string, output: string): NodeSpec => ({ opType: 'Conv', name: `${node.name}/conv`, inputs: [input, weight], outputs: [output], attributes: { kernel_shape: { kind: 'ints', value: [1, 1] } } });
    if (x.axis === 1) return [conv(node.inputs[0]!, node.outputs[0]!)];
    return [
      transposeNode(node.inputs[0]!, `${node.name}/nchw`, TO_NCHW),
      conv(`${node.name}/nchw`, `${node.name}/widened`),
      transposeNode(`${node.name}/widened`, node.outputs[0]!, TO_NHWC),
    ];
  };

  const concat = (node: NodeSpec, ins: (Lane | undefined)[]): Outcome => {
    const first = ins[0];
    const axisAttr = int(node.attributes.axis);
    if (!first || axisAttr === undefined || ins.some((l) => !l || l.axis !== first.axis || l.rank !== first.rank)) return 'reject';
    const axis = axisAttr < 0 ? axisAttr + first.rank : axisAttr;
    if (axis !== first.axis) {
      // Along another axis the channels must line up exactly.
      return ins.every((l) => l!.real === first.real && l!.width === first.width) ? { node, lane: { ...first, zero: ins.every((l) => l!.zero) } } : 'reject';
    }
    // Along the channels: only the last part may keep its padding, the others are cut to their true channels.
    const last = ins[ins.length - 1]!;
    uses(last);
    const inputs = node.inputs.map((name, i) => (i === ins.length - 1 ? name : real(name)));
    const before = ins.slice(0, -1).reduce((n, l) => n + l!.real, 0);
    return { node: { ...node, inputs }, lane: { ...first, real: before + last.real, width: before + last.width, zero: last.zero } };
  };

  for (const node of nodes) {
    const ins = node.inputs.map((name) => (name ? lanes.get(name) : undefined));
    const result = node.outputs.length === 1 && node.inputs.length > 0 ? rewrite(node, ins) : 'reject';
    if (result === 'reject') {
      out.push({ ...node, inputs: node.inputs.map((name) => (name ? real(name) : name)) });
      continue;
    }
    out.push(...(Array.isArray(result.node) ? result.node : [result.node]));
    if (result.lane) lanes.set(node.outputs[0]!, result.lane);
  }
  nodes.splice(0, nodes.length, ...out);
  return { widened, useful, costly };
}

/** Zero-pads `data` (shape `dims`) along `axis` to `size`. */
function widen(data: Float32Array, dims: readonly number[], axis: number, size: number): Float32Array {
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = dims[axis]!;
  const out = new Float32Array(outer * size * inner);
  for (let o = 0; o < outer; o++) out.set(data.subarray(o * n * inner, (o + 1) * n * inner), o * size * inner);
  return out;
}
