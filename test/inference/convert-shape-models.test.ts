import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convertGraphModel } from '../../src/inference/convert/graph/convert.js';
import type { GraphModelJson, TfAttr, TfNode } from '../../src/inference/convert/graph/tf-types.js';
import { assertExact, runTinyGraph } from '../helpers/exactness.js';

// Whole models whose graphs lean on reshapes, slices, pads and concats: ONNX (onnxruntime) vs TF.js wasm.
const models: [id: string, image: string][] = [
  ['antispoof', 'faces/single/happy.jpg'],
  ['liveness', 'faces/single/sad.jpg'],
  ['blazeface', 'faces/groups/bbt1.jpg'],
  ['blazeface-back', 'faces/groups/bbt1.jpg'],
  ['blazeface-front', 'faces/groups/bbt1.jpg'],
  ['facemesh', 'faces/single/neutral.jpg'],
  ['iris', 'faces/single/surprised.jpg'],
  ['age', 'faces/single/angry.jpg'],
  ['facemesh-detection-short', 'faces/groups/bbt1.jpg'],
  ['facemesh-detection-full', 'faces/groups/bbt1.jpg'],
  ['mobileface', 'faces/single/disgusted.jpg'],
  ['mobilefacenet', 'faces/single/fearful.jpg'],
];
for (const [id, image] of models) {
  test(`${id}: ONNX conversion matches TF.js within 1e-4 relative L2`, async () => {
    await assertExact(id, image);
  });
}

// Hand-built graphs whose edge cases are chosen on purpose, checked against TF.js itself.

type Ints = number[];
interface Graph { json: GraphModelJson; weights: Uint8Array }

const dims = (shape: readonly number[]) => ({ dim: shape.map((d) => ({ size: String(d) })) });
const i = (v: number): TfAttr => ({ i: String(v) });
const type = (t: string): TfAttr => ({ type: t });

/** A float placeholder `x` (-1 for an unknown dimension), int32 constants stored as weights, and `nodes`. */
function graph(inputShape: readonly number[], consts: Record<string, { shape: Ints; values: Ints }>, nodes: TfNode[]): Graph {
  const constNodes: TfNode[] = Object.entries(consts).map(([name, c]) => ({
    name, op: 'Const', attr: { dtype: type('DT_INT32'), value: { tensor: { dtype: 'DT_INT32', tensorShape: dims(c.shape) } } },
  }));
  const x: TfNode = { name: 'x', op: 'Placeholder', attr: { dtype: type('DT_FLOAT'), shape: { shape: dims(inputShape) } } };
  const weights = Object.entries(consts).map(([name, c]) => ({ name, shape: c.shape, dtype: 'int32' as const }));
  const bytes = Buffer.concat(Object.values(consts).map((c) => Buffer.from(Int32Array.from(c.values).buffer)));
  return {
    json: { format: 'graph-model', modelTopology: { node: [x, ...constNodes, ...nodes], versions: { producer: 1395 } }, weightsManifest: [{ paths: [], weights }] },
    weights: new Uint8Array(bytes),
  };
}

/** Distinct values, so that any misplaced element shows. */
function ramp(shape: readonly number[]): Float32Array {
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, k) => k * 0.5 - 3);
}

// TF.js wasm cannot produce empty slices (its reshape rejects them), so no case slices to nothing.

/** Runs `g` converted on onnxruntime and as-is on TF.js wasm with input shape `runShape`; outputs must be identical. */
async function assertSame(g: Graph, runShape: number[]): Promise<void> {
  for (const p of await runTinyGraph(g, ramp(runShape), runShape)) {
    assert.deepEqual(p.ours.data, Array.from(p.reference.data), `output ${p.name} values`);
  }
}

interface SliceCase { name: string; begin: Ints; end: Ints; strides: Ints; masks: Partial<Record<'begin_mask' | 'end_mask' | 'ellipsis_mask' | 'new_axis_mask' | 'shrink_axis_mask', number>> }

function stridedSliceGraph(inputShape: Ints, c: SliceCase, source: 'x' | 'shape' = 'x'): Graph {
  const n = c.begin.length;
  const attr: Record<string, TfAttr> = { T: type(source === 'x' ? 'DT_FLOAT' : 'DT_INT32'), Index: type('DT_INT32') };
  for (const [k, v] of Object.entries(c.masks)) attr[k] = i(v);
  const nodes: TfNode[] = [{ name: 'ss', op: 'StridedSlice', input: [source === 'x' ? 'x' : 's', 'b', 'e', 'st'], attr }];
  if (source === 'shape') nodes.unshift({ name: 's', op: 'Shape', input: ['x'], attr: { T: type('DT_FLOAT'), out_type: type('DT_INT32') } });
  return graph(inputShape, { b: { shape: [n], values: c.begin }, e: { shape: [n], values: c.end }, st: { shape: [n], values: c.strides } }, nodes);
}

const sliceCases: SliceCase[] = [
  { name: 'plain range with a stride', begin: [0, 1, 0], end: [2, 3, 5], strides: [1, 1, 2], masks: {} },
  { name: 'begin/end masks with negative strides', begin: [0, -1, 3], end: [0, 0, 0], strides: [1, -1, -2], masks: { begin_mask: 1, end_mask: 3 } },
  { name: 'shrink a negative index', begin: [0, -1], end: [0, 0], strides: [1, 1], masks: { begin_mask: 1, end_mask: 1, shrink_axis_mask: 2 } },
  { name: 'ellipsis, new axis, shrink', begin: [0, 0, 1], end: [0, 0, 2], strides: [1, 1, 1], masks: { ellipsis_mask: 1, new_axis_mask: 2, shrink_axis_mask: 4 } },
  { name: 'new axis first, ellipsis in the middle, reversed last axis', begin: [0, 1, 0, 0], end: [0, 0, 0, 0], strides: [1, 1, 1, -2], masks: { new_axis_mask: 1, end_mask: 2 | 8, begin_mask: 8, ellipsis_mask: 4 } },
  { name: 'out-of-range bounds clamp', begin: [-10, 1], end: [100, -100], strides: [1, -1], masks: {} },
  { name: 'shrink every axis but the last', begin: [1, 2, 3], end: [2, 3, 4], strides: [1, 1, 1], masks: { shrink_axis_mask: 7 } },
  { name: 'every axis reversed by masks', begin: [0, 0, 0, 0], end: [0, 0, 0, 0], strides: [-1, -1, -1, -1], masks: { begin_mask: 15, end_mask: 15 } },
];

for (const c of sliceCases) {
  test(`StridedSlice: ${c.name}`, async () => {
    await assertSame(stridedSliceGraph([2, 3, 4, 5], c), [2, 3, 4, 5]);
  });
  test(`StridedSlice: ${c.name}, unknown batch`, async () => {
    await assertSame(stridedSliceGraph([-1, 3, 4, 5], c), [2, 3, 4, 5]);
  });
}

test('StridedSlice on a Shape folds to a constant (known and partly known shapes)', async () => {
  const c: SliceCase = { name: 'tail', begin: [1], end: [0], strides: [1], masks: { end_mask: 1 } };
  const g = stridedSliceGraph([2, 3, 4, 5], c, 'shape');
  await assertSame(g, [2, 3, 4, 5]);
  assert.equal(convertGraphModel(g.json, g.weights, 'tiny').nodes, 1, 'only the output Identity remains');
  await assertSame(stridedSliceGraph([-1, 3, 4, 5], c, 'shape'), [2, 3, 4, 5]);
});

test('Shape -> StridedSlice -> Pack -> Reshape with an unknown batch becomes a constant Reshape', async () => {
  const g = graph([-1, 4, 4, 6], { b: { shape: [1], values: [0] }, e: { shape: [1], values: [1] }, st: { shape: [1], values: [1] }, m1: { shape: [], values: [-1] }, c: { shape: [], values: [3] } }, [
    { name: 's', op: 'Shape', input: ['x'], attr: { T: type('DT_FLOAT'), out_type: type('DT_INT32') } },
    { name: 'n', op: 'StridedSlice', input: ['s', 'b', 'e', 'st'], attr: { T: type('DT_INT32'), Index: type('DT_INT32'), shrink_axis_mask: i(1) } },
    { name: 'p', op: 'Pack', input: ['n', 'm1', 'c'], attr: { T: type('DT_INT32'), N: i(3), axis: i(0) } },
    { name: 'r', op: 'Reshape', input: ['x', 'p'], attr: { T: type('DT_FLOAT'), Tshape: type('DT_INT32') } },
  ]);
  await assertSame(g, [2, 4, 4, 6]);
  assert.equal(convertGraphModel(g.json, g.weights, 'tiny').nodes, 1, 'the Reshape alone (it writes the graph output itself)');
});

test('shape arithmetic through Unpack, Mul, GatherV2 and Cast with an unknown batch', async () => {
  const g = graph([-1, 4, 4, 6], { idx: { shape: [2], values: [3, 1] }, ax: { shape: [], values: [0] }, b: { shape: [1], values: [0] }, e: { shape: [1], values: [1] }, st: { shape: [1], values: [1] } }, [
    { name: 's', op: 'Shape', input: ['x'], attr: { T: type('DT_FLOAT'), out_type: type('DT_INT32') } },
    { name: 'u', op: 'Unpack', input: ['s'], attr: { T: type('DT_INT32'), num: i(4), axis: i(0) } },
    { name: 'hw', op: 'Mul', input: ['u:1', 'u:2'], attr: { T: type('DT_INT32') } },
    { name: 'p', op: 'Pack', input: ['u:0', 'hw', 'u:3'], attr: { T: type('DT_INT32'), N: i(3), axis: i(0) } },
    { name: 'r', op: 'Reshape', input: ['x', 'p'], attr: { T: type('DT_FLOAT'), Tshape: type('DT_INT32') } },
    { name: 'ga', op: 'GatherV2', input: ['s', 'idx', 'ax'], attr: { Tparams: type('DT_INT32'), Tindices: type('DT_INT32'), Taxis: type('DT_INT32'), batch_dims: i(0) } },
    { name: 'gf', op: 'Cast', input: ['ga'], attr: { SrcT: type('DT_INT32'), DstT: type('DT_FLOAT') } },
    // The batch itself is only known at run time: its Shape -> StridedSlice nodes are emitted because it is an output.
    { name: 'n', op: 'StridedSlice', input: ['s', 'b', 'e', 'st'], attr: { T: type('DT_INT32'), Index: type('DT_INT32'), shrink_axis_mask: i(1) } },
  ]);
  await assertSame(g, [2, 4, 4, 6]);
});

function splitVGraph(inputShape: Ints, sizes: Ints, axis: number): Graph {
  const outs: TfNode[] = sizes.map((_, k) => ({ name: `o${k}`, op: 'Identity', input: [`sv:${k}`], attr: { T: type('DT_FLOAT') } }));
  return graph(inputShape, { sz: { shape: [sizes.length], values: sizes }, ax: { shape: [], values: [axis] } }, [
    { name: 'sv', op: 'SplitV', input: ['x', 'sz', 'ax'], attr: { T: type('DT_FLOAT'), Tlen: type('DT_INT32'), num_split: i(sizes.length) } },
    ...outs,
  ]);
}

test('SplitV with a -1 size and a negative axis', async () => {
  await assertSame(splitVGraph([-1, 10, 4], [3, -1, 2], -2), [2, 10, 4]);
});

// Not -1 first: TF.js's reduce then counts the -1 itself and rejects the split, where TF accepts it.
test('SplitV with a -1 size last, on the last axis', async () => {
  await assertSame(splitVGraph([2, 3, 7], [2, 4, -1], 2), [2, 3, 7]);
});

test('Split, Unpack and Pack round trip', async () => {
  const g = graph([2, 6, 3], { ax: { shape: [], values: [1] } }, [
    { name: 'sp', op: 'Split', input: ['ax', 'x'], attr: { T: type('DT_FLOAT'), num_split: i(3) } },
    { name: 'un', op: 'Unpack', input: ['sp:1'], attr: { T: type('DT_FLOAT'), num: i(3), axis: i(-1) } },
    { name: 'pk', op: 'Pack', input: ['un:2', 'un:0', 'un:1'], attr: { T: type('DT_FLOAT'), N: i(3), axis: i(1) } },
    { name: 'o', op: 'Identity', input: ['sp:2'], attr: { T: type('DT_FLOAT') } },
  ]);
  await assertSame(g, [2, 6, 3]);
});

test('DepthToSpace, SpaceToBatchND and BatchToSpaceND with an unknown batch', async () => {
  const g = graph([-1, 4, 6, 8], {
    bs: { shape: [2], values: [2, 3] }, pads: { shape: [2, 2], values: [1, 1, 0, 3] }, crops: { shape: [2, 2], values: [1, 1, 0, 3] },
  }, [
    { name: 'd2s', op: 'DepthToSpace', input: ['x'], attr: { T: type('DT_FLOAT'), block_size: i(2), data_format: { s: Buffer.from('NHWC').toString('base64') } } },
    { name: 's2b', op: 'SpaceToBatchND', input: ['x', 'bs', 'pads'], attr: { T: type('DT_FLOAT') } },
    { name: 'b2s', op: 'BatchToSpaceND', input: ['s2b', 'bs', 'crops'], attr: { T: type('DT_FLOAT') } },
    { name: 's2b_out', op: 'Identity', input: ['s2b'], attr: { T: type('DT_FLOAT') } },
  ]);
  await assertSame(g, [2, 4, 6, 8]);
});

test('Pad, PadV2, Tile, Transpose, GatherV2, ConcatV2 and ExpandDims', async () => {
  const g = graph([-1, 3, 4], {
    p: { shape: [3, 2], values: [0, 0, 1, 2, 3, 0] }, m: { shape: [3], values: [1, 2, 1] }, perm: { shape: [3], values: [2, 0, 1] },
    idx: { shape: [2, 2], values: [3, 0, 1, 1] }, ax2: { shape: [], values: [2] }, axm1: { shape: [], values: [-1] },
  }, [
    { name: 'pad', op: 'Pad', input: ['x', 'p'], attr: { T: type('DT_FLOAT') } },
    { name: 'tile', op: 'Tile', input: ['x', 'm'], attr: { T: type('DT_FLOAT') } },
    { name: 'tr', op: 'Transpose', input: ['x', 'perm'], attr: { T: type('DT_FLOAT') } },
    { name: 'ga', op: 'GatherV2', input: ['x', 'idx', 'ax2'], attr: { Tparams: type('DT_FLOAT'), batch_dims: i(0) } },
    { name: 'cc', op: 'ConcatV2', input: ['x', 'x', 'axm1'], attr: { T: type('DT_FLOAT'), N: i(2) } },
    { name: 'ed', op: 'ExpandDims', input: ['x', 'axm1'], attr: { T: type('DT_FLOAT') } },
  ]);
  await assertSame(g, [2, 3, 4]);
});

test('Fill, Range, Cast, ZerosLike and a constant SparseToDense', async () => {
  const g = graph([2, 3], {
    fs: { shape: [2], values: [2, 3] }, fv: { shape: [], values: [7] }, r0: { shape: [], values: [1] }, r1: { shape: [], values: [10] }, r2: { shape: [], values: [3] },
    si: { shape: [2, 1], values: [4, 1] }, ss: { shape: [1], values: [6] }, sv: { shape: [2], values: [5, 9] }, sd: { shape: [], values: [-1] },
  }, [
    { name: 'fill', op: 'Fill', input: ['fs', 'fv'], attr: { T: type('DT_INT32') } },
    { name: 'range', op: 'Range', input: ['r0', 'r1', 'r2'], attr: { Tidx: type('DT_INT32') } },
    { name: 'cast', op: 'Cast', input: ['x'], attr: { SrcT: type('DT_FLOAT'), DstT: type('DT_INT32') } },
    { name: 'zeros', op: 'ZerosLike', input: ['x'], attr: { T: type('DT_FLOAT') } },
    { name: 'std', op: 'SparseToDense', input: ['si', 'ss', 'sv', 'sd'], attr: { T: type('DT_INT32'), Tindices: type('DT_INT32') } },
  ]);
  await assertSame(g, [2, 3]);
});
