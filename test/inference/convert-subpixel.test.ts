import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { convertLayersModel } from '../../src/inference/convert/layers/index.js';
import { readOnnx } from '../../src/inference/convert/onnx/read.js';
import { phaseKernel } from '../../src/inference/convert/resample.js';
import { loadTfLayers, runTfLayers, saveTfLayers, tfl } from '../helpers/tfjs-layers-reference.js';
import { relativeL2, tfReady } from '../helpers/tfjs-reference.js';

// Converter 5's sub-pixel rewrite (resample.ts nearestUpsampleConvAsDepthToSpace): a nearest UpSampling2D by s
// read only by a stride-1 "same" conv becomes a conv on the small map with s*s phases per filter, then
// DepthToSpace. It must fire where it applies, stay away where it does not, and keep TF.js's outputs.

test('phase filters of a 3x3 kernel for x2: each phase sums the taps that land on the same source pixel', () => {
  const k = Float32Array.from({ length: 9 }, (_, i) => i + 1); // [[1,2,3],[4,5,6],[7,8,9]]
  const { data, dims } = phaseKernel(k, [1, 1, 3, 3], 2);
  assert.deepEqual(dims, [4, 1, 3, 3]);
  const phase = (p: number) => [...data.subarray(p * 9, p * 9 + 9)];
  // Phase (0, 0): tap row 0 reads source row -1, rows 1 and 2 read row 0; the same across.
  assert.deepEqual(phase(0), [1, 5, 0, 11, 28, 0, 0, 0, 0]);
  // Phase (0, 1): rows as above; columns 0 and 1 read source column 0, column 2 reads column +1.
  assert.deepEqual(phase(1), [0, 3, 3, 0, 24, 15, 0, 0, 0]);
  // Phase (1, 0): tap rows 0 and 1 read source row 0, row 2 reads row +1; columns as in phase (0, 0).
  assert.deepEqual(phase(2), [0, 0, 0, 5, 16, 0, 7, 17, 0]);
  // Phase (1, 1): rows and columns 0 and +1.
  assert.deepEqual(phase(3), [0, 0, 0, 0, 12, 9, 0, 15, 9]);
});

test('phase filters keep every tap once, and a 5x5 kernel at x3 needs only a 3x3 span', () => {
  const k = Float32Array.from({ length: 2 * 3 * 25 }, (_, i) => (i % 7) - 3 + i / 100);
  const { data, dims } = phaseKernel(k, [2, 3, 5, 5], 3);
  assert.deepEqual(dims, [18, 3, 3, 3]);
  for (let o = 0; o < 2; o++) {
    for (let c = 0; c < 3; c++) {
      const want = k.subarray((o * 3 + c) * 25, (o * 3 + c + 1) * 25).reduce((a, v) => a + v, 0);
      for (let p = 0; p < 9; p++) {
        const got = data.subarray(((o * 9 + p) * 3 + c) * 9, ((o * 9 + p) * 3 + c + 1) * 9).reduce((a, v) => a + v, 0);
        assert.ok(Math.abs(got - want) < 1e-4, `o${o} c${c} phase ${p}: ${got} vs ${want}`);
      }
    }
  }
});

const init = (seed: number) => tfl.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed });

function ramp(n: number, seed: number): Float32Array {
  let r = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    r = (Math.imul(r, 1664525) + 1013904223) >>> 0;
    return (r / 2 ** 32) * 2 - 1;
  });
}

/** Converts the model, checks which ops the graph has, runs both runtimes on a non-square input. */
async function check(model: tfl.LayersModel, shape: number[]): Promise<{ ops: string[]; error: number }> {
  const { json, weights } = await saveTfLayers(model);
  model.dispose();
  const converted = convertLayersModel(json, weights, 'tiny');
  const ops = readOnnx(converted.onnx).nodes.map((n) => n.opType);
  const x = ramp(shape.reduce((a, b) => a * b, 1), 7);
  const session = await ort.InferenceSession.create(converted.onnx);
  const ours = (await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, shape) }))[converted.outputs[0]!]!;
  await session.release();
  const tfModel = await loadTfLayers(json, weights);
  const ref = runTfLayers(tfModel, x, shape);
  tfModel.dispose();
  assert.deepEqual([...ours.dims], ref.shape);
  return { ops, error: relativeL2(ours.data as Float32Array, ref.data) };
}

for (const [s, k, bias, activation] of [[2, 3, true, 'relu'], [3, 5, false, 'linear'], [4, 3, true, 'linear'], [2, 1, true, 'linear']] as const) {
  test(`nearest x${s} then a ${k}x${k} same conv (bias ${bias}, ${activation}): conv on the small map and DepthToSpace, as TF.js`, async () => {
    await tfReady();
    const L = tfl.layers;
    const x = tfl.input({ shape: [null, null, 6] });
    const c0 = L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: init(1), biasInitializer: init(2) }).apply(x) as tfl.SymbolicTensor;
    const up = L.upSampling2d({ size: [s, s] }).apply(c0) as tfl.SymbolicTensor;
    const y = L.conv2d({ filters: 3, kernelSize: k, padding: 'same', useBias: bias, activation, kernelInitializer: init(3), biasInitializer: init(4) }).apply(up) as tfl.SymbolicTensor;
    const { ops, error } = await check(tfl.model({ inputs: x, outputs: y }), [1, 5, 7, 6]);
    assert.ok(!ops.includes('Resize') && ops.includes('DepthToSpace'), ops.join());
    assert.ok(error < 1e-6, `relative L2 ${error}`);
  });
}

const leftAlone: [string, (x: tfl.SymbolicTensor) => tfl.SymbolicTensor][] = [
  ['a stride-2 conv', (x) => conv({ strides: 2 }, 10).apply(up(x, [2, 2])) as tfl.SymbolicTensor],
  ['a valid conv', (x) => conv({ padding: 'valid' }, 12).apply(up(x, [2, 2])) as tfl.SymbolicTensor],
  ['unequal scales', (x) => conv({}, 14).apply(up(x, [2, 3])) as tfl.SymbolicTensor],
  ['an upsample read by two convs', (x) => {
    const shared = up(x, [2, 2]);
    return tfl.layers.add().apply([conv({}, 16).apply(shared) as tfl.SymbolicTensor, conv({}, 18).apply(shared) as tfl.SymbolicTensor]) as tfl.SymbolicTensor;
  }],
];

function conv(cfg: Partial<{ strides: number; padding: 'same' | 'valid' }>, seed: number) {
  return tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', ...cfg, kernelInitializer: init(seed), biasInitializer: init(seed + 1) });
}

function up(x: tfl.SymbolicTensor, size: [number, number]): tfl.SymbolicTensor {
  return tfl.layers.upSampling2d({ size }).apply(x) as tfl.SymbolicTensor;
}

for (const [name, build] of leftAlone) {
  test(`left alone: ${name}`, async () => {
    await tfReady();
    const x = tfl.input({ shape: [null, null, 4] });
    const { ops, error } = await check(tfl.model({ inputs: x, outputs: build(x) }), [1, 6, 7, 4]);
    assert.ok(ops.includes('Resize') && !ops.includes('DepthToSpace'), ops.join());
    assert.ok(error < 1e-6, `relative L2 ${error}`);
  });
}
