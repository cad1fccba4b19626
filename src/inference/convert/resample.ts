import { addFloats, consumerCounts, floats, int, int64s, ints, replaceNode } from './onnx/edit.js';
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

/**
 * Sub-pixel convolution: a convolution over a nearest-neighbour enlargement by an integer s computed on the small
 * map, as s x s phases in s^2 times the output channels, then DepthToSpace. ESRGAN's layers models end with
 * UpSampling2D then a 3-filter conv: onnxruntime materialised the enlarged 48-channel map (50 MB at x4) and ran a
 * 3-output-channel conv over it, which its NCHWc kernels do badly. Output pixel (s*i + a, s*j + b) with tap
 * offset (dy, dx) reads source pixel (i + floor((a + dy) / s), j + floor((b + dx) / s)), so the phase (a, b)
 * filter sums the taps that land on the same source pixel; zero padding agrees (enlarged -1 is source -1). The
 * same products, summed in another order. Channel o*s^2 + a*s + b holds phase (a, b) of o: DepthToSpace CRD.
 */
export function nearestUpsampleConvAsDepthToSpace(nodes: NodeSpec[], initializers: Map<string, TensorValue>): number {
  const producer = new Map<string, NodeSpec>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
  const consumers = consumerCounts(nodes);
  const dead = new Set<NodeSpec>();
  let rewritten = 0;
  for (let idx = 0; idx < nodes.length; idx++) {
    const conv = nodes[idx]!;
    if (conv.opType !== 'Conv' || !plainConv(conv)) continue;
    const wt = initializers.get(conv.inputs[1]!);
    const weight = floats(wt);
    const bias = conv.inputs[2] ? floats(initializers.get(conv.inputs[2])) : undefined;
    if (!wt || !weight || wt.dims.length !== 4 || (conv.inputs[2] && !bias)) continue;
    const [outC, inC, kh, kw] = wt.dims as [number, number, number, number];
    const pads = ints(conv.attributes.pads) ?? [0, 0, 0, 0];
    if (kh % 2 !== 1 || kw % 2 !== 1 || String(pads) !== String([(kh - 1) / 2, (kw - 1) / 2, (kh - 1) / 2, (kw - 1) / 2])) continue;
    // Back through Transposes read only on this path (the layers handlers' NCHW <-> NHWC pairs) to the Resize.
    let perm = [0, 1, 2, 3];
    const chain: NodeSpec[] = [];
    let resize = producer.get(conv.inputs[0]!);
    while (resize?.opType === 'Transpose' && consumers.get(resize.outputs[0]!) === 1) {
      const p = ints(resize.attributes.perm);
      if (!p || p.length !== 4) break;
      perm = perm.map((axis) => p[axis]!);
      chain.push(resize);
      resize = producer.get(resize.inputs[0]!);
    }
    if (resize?.opType !== 'Resize' || String(perm) !== '0,1,2,3' || consumers.get(resize.outputs[0]!) !== 1) continue;
    const s = integerNearestScale(resize, initializers);
    if (!s) continue;
    const kernel = phaseKernel(weight, [outC, inC, kh, kw], s);
    const phases = `${conv.name}/phases`;
    const phaseBias = bias ? Float32Array.from({ length: outC * s * s }, (_, i) => bias[Math.floor(i / (s * s))]!) : undefined;
    const [ph, pw] = [(kernel.dims[2]! - 1) / 2, (kernel.dims[3]! - 1) / 2];
    replaceNode(nodes, idx, [
      {
        ...conv,
        inputs: [resize.inputs[0]!, addFloats(initializers, `${conv.name}/phase_weight`, kernel.dims, kernel.data), ...(phaseBias ? [addFloats(initializers, `${conv.name}/phase_bias`, [outC * s * s], phaseBias)] : [])],
        outputs: [phases],
        attributes: { ...conv.attributes, kernel_shape: { kind: 'ints', value: kernel.dims.slice(2) }, pads: { kind: 'ints', value: [ph, pw, ph, pw] } },
      },
      { opType: 'DepthToSpace', name: `${conv.name}/depth_to_space`, inputs: [phases], outputs: conv.outputs, attributes: { blocksize: { kind: 'int', value: s }, mode: { kind: 'string', value: 'CRD' } } },
    ]);
    // Read by nothing now; removed at the end so that the scan's indices stay put.
    for (const n of [resize, ...chain]) dead.add(n);
    idx++;
    rewritten++;
  }
  if (dead.size > 0) nodes.splice(0, nodes.length, ...nodes.filter((n) => !dead.has(n)));
  return rewritten;
}

/** Group 1, stride 1, dilation 1, explicit pads: the convolutions whose taps map onto source pixels as above. */
function plainConv(conv: NodeSpec): boolean {
  const ones = (a: NodeSpec['attributes'][string] | undefined) => a === undefined || (ints(a)?.every((v) => v === 1) ?? false);
  const autoPad = conv.attributes.auto_pad;
  return (int(conv.attributes.group) ?? 1) === 1 && ones(conv.attributes.strides) && ones(conv.attributes.dilations)
    && (autoPad === undefined || isString(autoPad, 'NOTSET'));
}

/** s when the Resize repeats each pixel s x s times (s >= 2, the same on both axes, none on N and C). */
function integerNearestScale(resize: NodeSpec, initializers: ReadonlyMap<string, TensorValue>): number | undefined {
  const a = resize.attributes;
  if (!isString(a.mode, 'nearest') || !isString(a.nearest_mode, 'floor') || a.axes !== undefined) return undefined;
  // floor((s*i + a) / s) = i, and with TF's half-pixel centres floor((s*i + a + 0.5) / s) = i too.
  if (!isString(a.coordinate_transformation_mode, 'asymmetric') && !isString(a.coordinate_transformation_mode, 'tf_half_pixel_for_nn')) return undefined;
  if (resize.inputs[1] || resize.inputs[3] || !resize.inputs[2]) return undefined;
  const scales = floats(initializers.get(resize.inputs[2]));
  if (scales?.length !== 4 || scales[0] !== 1 || scales[1] !== 1 || scales[2] !== scales[3]) return undefined;
  const s = scales[2]!;
  return Number.isInteger(s) && s >= 2 ? s : undefined;
}

/**
 * The phase filters of a [O, C, kh, kw] kernel for nearest enlargement by s: [O*s*s, C, 2P+1, 2Q+1] with
 * P = ceil(((kh - 1) / 2) / s), since tap offset d = dy - (kh - 1) / 2 in phase a reads source offset floor((a + d) / s).
 */
export function phaseKernel(w: Float32Array, [outC, inC, kh, kw]: readonly number[], s: number): { data: Float32Array; dims: number[] } {
  const [py, px] = [(kh! - 1) / 2, (kw! - 1) / 2];
  const [P, Q] = [Math.ceil(py / s), Math.ceil(px / s)];
  const [KH, KW] = [2 * P + 1, 2 * Q + 1];
  const data = new Float32Array(outC! * s * s * inC! * KH * KW);
  for (let o = 0; o < outC!; o++) {
    for (let a = 0; a < s; a++) {
      for (let b = 0; b < s; b++) {
        const phase = (o * s + a) * s + b;
        for (let c = 0; c < inC!; c++) {
          for (let dy = 0; dy < kh!; dy++) {
            const sy = P + Math.floor((a + dy - py) / s);
            for (let dx = 0; dx < kw!; dx++) {
              const sx = Q + Math.floor((b + dx - px) / s);
              const at = ((phase * inC! + c) * KH + sy) * KW + sx;
              data[at] = data[at]! + w[((o * inC! + c) * kh! + dy) * kw! + dx]!;
            }
          }
        }
      }
    }
  }
  return { data, dims: [outC! * s * s, inC!, KH, KW] };
}
