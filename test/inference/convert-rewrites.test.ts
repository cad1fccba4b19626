import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { convertGraphModel } from '../../src/inference/convert/graph/convert.js';
import { readOnnx } from '../../src/inference/convert/onnx/read.js';
import { runTinyGraph } from '../helpers/exactness.js';
import { assertMatches, conv, graph, list, ops, ramp, s, T } from '../helpers/tiny-graph.js';
import { loadTfGraph, relativeL2, runTfGraph } from '../helpers/tfjs-reference.js';

// Hand-built graphs for converter 4's rewrites (src/inference/convert/rewrites.ts): each must fire (the op it
// removes is gone from the converted graph) and keep the outputs TF.js computes.



test('PRelu after a convolution, slopes of every sign and size, as x + (1 - a) relu(-x)', async () => {
  const g = graph([1, 6, 7, 3], { w: { data: ramp(3 * 3 * 3 * 4, 1), shape: [3, 3, 3, 4] }, a: { data: Float32Array.of(0.1, -0.5, 2, 1), shape: [4] } }, [
    conv('c', 'x', 'w'),
    { name: 'out', op: 'Prelu', input: ['c', 'a'], attr: T },
  ]);
  assert.ok(!ops(g).includes('PRelu'));
  await assertMatches(g, [1, 6, 7, 3], 1e-6);
});

test('clip_by_value (Relu, Minimum, Maximum) becomes one Clip; with a negative lower bound the Relu stays', async () => {
  for (const [lo, hi] of [[0, 6], [-0.25, 0.5]]) {
    const g = graph([1, 5, 5, 2], { w: { data: ramp(3 * 3 * 2 * 16, 2), shape: [3, 3, 2, 16] }, lo: { data: Float32Array.of(lo!), shape: [] }, hi: { data: Float32Array.of(hi!), shape: [] } }, [
      conv('c', 'x', 'w'),
      { name: 'r', op: 'Relu', input: ['c'], attr: T },
      { name: 'm', op: 'Minimum', input: ['r', 'hi'], attr: T },
      { name: 'out', op: 'Maximum', input: ['m', 'lo'], attr: T },
    ]);
    const kinds = ops(g);
    assert.ok(kinds.includes('Clip') && !kinds.includes('Min') && !kinds.includes('Max'), kinds.join());
    assert.equal(kinds.includes('Relu'), lo! < 0, `lo ${lo}: ${kinds.join()}`);
    await assertMatches(g, [1, 5, 5, 2], 1e-6);
  }
});

test('Relu after a Concat of a convolution moves onto the Concat inputs', async () => {
  const g = graph([1, 4, 4, 3], { w: { data: ramp(3 * 3 * 3 * 16, 3), shape: [3, 3, 3, 16] }, axis: { data: Int32Array.of(3), shape: [] } }, [
    conv('c', 'x', 'w'),
    { name: 'cat', op: 'ConcatV2', input: ['c', 'x', 'axis'], attr: { ...T, N: { i: '2' } } },
    { name: 'out', op: 'Relu', input: ['cat'], attr: T },
  ]);
  const kinds = ops(g);
  assert.equal(kinds.indexOf('Concat') > kinds.lastIndexOf('Relu'), true, kinds.join());
  await assertMatches(g, [1, 4, 4, 3], 1e-6);
});

test('a -Infinity PadV2 before a VALID MaxPool folds into the pool; a half-pixel bilinear halving is a 2x2 average', async () => {
  const g = graph([1, 8, 6, 16], {
    pads: { data: Int32Array.of(0, 0, 1, 1, 0, 1, 0, 0), shape: [4, 2] }, ninf: { data: Float32Array.of(-Infinity), shape: [] }, size: { data: Int32Array.of(4, 3), shape: [2] },
  }, [
    { name: 'p', op: 'PadV2', input: ['x', 'pads', 'ninf'], attr: T },
    { name: 'pool', op: 'MaxPool', input: ['p'], attr: { ...T, ksize: list([1, 3, 3, 1]), strides: list([1, 2, 2, 1]), padding: s('VALID'), data_format: s('NHWC') } },
    { name: 'half', op: 'ResizeBilinear', input: ['x', 'size'], attr: { ...T, align_corners: { b: false }, half_pixel_centers: { b: true } } },
  ]);
  const kinds = ops(g);
  assert.ok(!kinds.includes('Pad') && !kinds.includes('Resize') && kinds.includes('AveragePool'), kinds.join());
  await assertMatches(g, [1, 8, 6, 16], 1e-6);
});

test("inputLayout 'nchw' takes an NHWC image input as NCHW; an NCHW one stays as it is", async () => {
  const g = graph([1, 5, 4, 3], { w: { data: ramp(3 * 3 * 3 * 16, 4), shape: [3, 3, 3, 16] } }, [conv('out', 'x', 'w')]);
  const converted = convertGraphModel(g.json, g.weights, 'tiny', { inputLayout: 'nchw' });
  assert.deepEqual(converted.inputs[0], { name: 'x', dtype: 'float32', shape: [1, 3, 5, 4], fromNhwc: true });
  const nhwc = ramp(60, 6);
  const nchw = new Float32Array(60);
  for (let p = 0; p < 20; p++) for (let c = 0; c < 3; c++) nchw[c * 20 + p] = nhwc[p * 3 + c]!;
  const session = await ort.InferenceSession.create(converted.onnx);
  const ours = (await session.run({ x: new ort.Tensor('float32', nchw, [1, 3, 5, 4]) })).out!;
  await session.release();
  const ref = (await runTfGraph(await loadTfGraph(g.json, g.weights), nhwc, [1, 5, 4, 3])).get('out')!;
  assert.ok(relativeL2(ours.data as Float32Array, ref.data) < 1e-6);
  const already = graph([1, 3, 5, 4], {}, [{ name: 'out', op: 'Relu', input: ['x'], attr: T }]);
  assert.deepEqual(convertGraphModel(already.json, already.weights, 'tiny', { inputLayout: 'nchw' }).inputs[0]!.shape, [1, 3, 5, 4]);
});

/** Values on a coarse grid, so that many are equal: ties are where a rewrite of a comparison goes wrong. */
function ties(n: number, seed: number, levels: number): Float32Array {
  return ramp(n, seed).map((v) => Math.round(v * levels) / levels);
}

test('CenterNet peak picking, h * cast(h == maxpool(h)) on a sigmoid, becomes a Relu of sums, the same bits', async () => {
  const [hgt, wid, ch] = [12, 10, 16];
  const g = graph([1, hgt, wid, ch], {}, [
    { name: 'h', op: 'Sigmoid', input: ['x'], attr: T },
    { name: 'heat', op: 'Identity', input: ['h'], attr: T },
    { name: 'pool', op: 'MaxPool', input: ['h'], attr: { ...T, ksize: list([1, 3, 3, 1]), strides: list([1, 1, 1, 1]), padding: s('SAME'), data_format: s('NHWC') } },
    { name: 'eq', op: 'Equal', input: ['h', 'pool'], attr: T },
    { name: 'mask', op: 'Cast', input: ['eq'], attr: { SrcT: { type: 'DT_BOOL' }, DstT: { type: 'DT_FLOAT' } } },
    { name: 'out', op: 'Mul', input: ['h', 'mask'], attr: T },
  ]);
  const kinds = ops(g);
  assert.ok(!kinds.includes('Equal') && !kinds.includes('Cast') && kinds.includes('Relu'), kinds.join());
  // Plateaus (equal neighbours, both peaks), neighbours one rounding apart, saturated and vanishing sigmoids.
  const x = ties(hgt * wid * ch, 7, 4).map((v, i) => (i % 97 === 0 ? 40 : i % 89 === 0 ? -90 : i % 7 === 0 ? v + 1e-6 : v * 8));
  const pairs = new Map((await runTinyGraph(g, x, [1, hgt, wid, ch])).map((p) => [p.name, p]));
  const h = Float32Array.from(pairs.get('heat')!.ours.data);
  const out = Float32Array.from(pairs.get('out')!.ours.data);
  // The mask on our own sigmoid, bit for bit (TF.js's sigmoid differs in the last bits).
  const at = (y: number, x: number, c: number) => (y < 0 || x < 0 || y >= hgt || x >= wid ? -Infinity : h[(y * wid + x) * ch + c]!);
  h.forEach((v, i) => {
    const [y, x, c] = [Math.floor(i / (wid * ch)), Math.floor(i / ch) % wid, i % ch];
    let max = -Infinity;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) max = Math.max(max, at(y + dy, x + dx, c));
    assert.equal(out[i], v === max ? v : 0, `element ${i}`);
  });
  assert.ok(relativeL2(out, pairs.get('out')!.reference.data) < 1e-6);
});

test('a TopK over one long row becomes a TopK per row and one over the candidates: same values and indices, ties too', async () => {
  const n = 1 << 17;
  const g = graph([1, 256, n / 256], { k: { data: Int32Array.of(100), shape: [] }, flat: { data: Int32Array.of(1, n), shape: [2] } }, [
    { name: 'row', op: 'Reshape', input: ['x', 'flat'], attr: T },
    { name: 'top', op: 'TopKV2', input: ['row', 'k'], attr: { ...T, sorted: { b: true } } },
    { name: 'values', op: 'Identity', input: ['top:0'], attr: T },
    { name: 'indices', op: 'Cast', input: ['top:1'], attr: { SrcT: { type: 'DT_INT32' }, DstT: { type: 'DT_FLOAT' } } },
  ]);
  assert.equal(ops(g).filter((o) => o === 'TopK').length, 2);
  // Few distinct values: the 100 best are all ties, spread over every row.
  for (const p of await runTinyGraph(g, ties(n, 8, 8), [1, 256, n / 256])) {
    assert.deepEqual(Array.from(p.ours.data), Array.from(p.reference.data), p.name);
  }
});

test('outputs: only the named outputs are kept, and the nodes only the others needed are gone', () => {
  const g = graph([1, 4, 4, 16], {}, [
    { name: 'kept', op: 'Relu', input: ['x'], attr: T },
    { name: 'dropped', op: 'Sigmoid', input: ['x'], attr: T },
  ]);
  const converted = convertGraphModel(g.json, g.weights, 'tiny', { outputs: ['kept'] });
  assert.deepEqual(converted.outputs, ['kept']);
  assert.deepEqual(readOnnx(converted.onnx).nodes.map((n) => n.opType), ['Relu']);
  assert.throws(() => convertGraphModel(g.json, g.weights, 'tiny', { outputs: ['missing'] }), /none of the outputs/);
});
