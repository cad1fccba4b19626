import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TfNode } from '../../src/inference/convert/graph/tf-types.js';
import { assertMatches, conv, graph, list, ops, ramp, s, T } from '../helpers/tiny-graph.js';

// Hand-built graphs for the rewrites that gender's converted graph needed (conv-mean.ts, unit-transpose.ts, the
// narrow case of channel-pad.ts): each must fire where it should, not where it should not, and keep TF.js's outputs.

const depthwise = (name: string, input: string, w: string): TfNode => ({
  name, op: 'DepthwiseConv2dNative', input: [input, w], attr: { ...T, strides: list([1, 1, 1, 1]), padding: s('SAME'), data_format: s('NHWC'), dilations: list([1, 1, 1, 1]) },
});



test('a convolution read only by a spatial mean becomes one convolution over the whole input (SAME, VALID, strided)', async () => {
  const cases = [
    { input: [2, 4, 4, 8], k: 3, stride: 1, padding: 'SAME' },
    { input: [1, 5, 6, 4], k: 3, stride: 2, padding: 'SAME' },
    { input: [1, 5, 5, 4], k: 2, stride: 1, padding: 'VALID' },
  ];
  for (const [i, c] of cases.entries()) {
    const cin = c.input[3]!;
    const g = graph(c.input, {
      w: { data: ramp(c.k * c.k * cin * 3, 10 + i), shape: [c.k, c.k, cin, 3] }, b: { data: Float32Array.of(0.5, -1, 2), shape: [3] }, axes: { data: Int32Array.of(1, 2), shape: [2] },
    }, [
      // As gender's head: the bias fused into the convolution.
      { ...conv('c', 'x', 'w', c), op: '_FusedConv2D', input: ['x', 'w', 'b'], attr: { ...conv('c', 'x', 'w', c).attr, fused_ops: { list: { s: [s('BiasAdd').s!] } }, num_args: { i: '1' } } },
      { name: 'out', op: 'Mean', input: ['c', 'axes'], attr: { ...T, keep_dims: { b: false } } },
    ]);
    const kinds = ops(g);
    assert.ok(!kinds.includes('ReduceMean') && kinds.includes('Flatten'), `case ${i}: ${kinds.join()}`);
    await assertMatches(g, c.input, 1e-5);
  }
  // A 1x1 convolution costs no more than the mean after it: left alone.
  const g = graph([1, 4, 4, 8], { w: { data: ramp(8 * 3, 20), shape: [1, 1, 8, 3] }, axes: { data: Int32Array.of(1, 2), shape: [2] } }, [
    conv('c', 'x', 'w'),
    { name: 'out', op: 'Mean', input: ['c', 'axes'], attr: { ...T, keep_dims: { b: false } } },
  ]);
  assert.ok(ops(g).includes('ReduceMean'));
  await assertMatches(g, [1, 4, 4, 8], 1e-5);
});

test('a one-channel NHWC input reaches NCHW by a Reshape, not a Transpose', async () => {
  const g = graph([2, 6, 5, 1], { w: { data: ramp(9 * 16, 30), shape: [3, 3, 1, 16] } }, [conv('out', 'x', 'w')]);
  const kinds = ops(g);
  assert.equal(kinds[0], 'Reshape', kinds.join());
  await assertMatches(g, [2, 6, 5, 1], 1e-6);
  // Three channels: a real Transpose.
  const rgb = graph([1, 6, 5, 3], { w: { data: ramp(27 * 16, 31), shape: [3, 3, 3, 16] } }, [conv('out', 'x', 'w')]);
  assert.equal(ops(rgb)[0], 'Transpose');
  await assertMatches(rgb, [1, 6, 5, 3], 1e-6);
});

test('an 8-channel convolution is widened to a block when only depthwise and 1x1 convolutions read it, not for a 3x3 reader nor a pool', async () => {
  // Widened, the depthwise output carries 16 channels and the graph output reads a Slice back to the true 8.
  const cheap = graph([1, 6, 6, 3], { w: { data: ramp(3 * 8, 40), shape: [1, 1, 3, 8] }, d: { data: ramp(9 * 8, 41), shape: [3, 3, 8, 1] } }, [
    conv('a', 'x', 'w'),
    { name: 'r', op: 'Relu', input: ['a'], attr: T },
    depthwise('out', 'r', 'd'),
  ]);
  assert.ok(ops(cheap).includes('Slice'), ops(cheap).join());
  await assertMatches(cheap, [1, 6, 6, 3], 1e-6);
  const full = graph([1, 6, 6, 3], { w: { data: ramp(3 * 8, 42), shape: [1, 1, 3, 8] }, kw: { data: ramp(9 * 8 * 8, 43), shape: [3, 3, 8, 8] }, d: { data: ramp(9 * 8, 44), shape: [3, 3, 8, 1] } }, [
    conv('a', 'x', 'w'),
    { name: 'r', op: 'Relu', input: ['a'], attr: T },
    conv('k', 'r', 'kw'),
    depthwise('out', 'k', 'd'),
    depthwise('out2', 'r', 'd'),
  ]);
  // 'a' has a 3x3 reader: not widened; 'k' (only a depthwise reader) is, hence one Slice, before 'out'.
  assert.equal(ops(full).filter((op) => op === 'Slice').length, 1, ops(full).join());
  await assertMatches(full, [1, 6, 6, 3], 1e-6);
  // Read by a pool only (or a Concat, as iris's 15-channel head): nothing gained, so not widened, no Slice.
  const pooled = graph([1, 6, 6, 3], { w: { data: ramp(3 * 8, 45), shape: [1, 1, 3, 8] } }, [
    conv('a', 'x', 'w'),
    { name: 'out', op: 'MaxPool', input: ['a'], attr: { ...T, ksize: list([1, 3, 3, 1]), strides: list([1, 2, 2, 1]), padding: s('SAME'), data_format: s('NHWC') } },
  ]);
  assert.ok(!ops(pooled).includes('Slice'), ops(pooled).join());
  await assertMatches(pooled, [1, 6, 6, 3], 1e-6);
});
