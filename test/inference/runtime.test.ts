import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/env.js';
import { probeImage } from '../../src/imaging/probe.js';
import { toTensor } from '../../src/imaging/to-tensor.js';
import { convertGraphModel } from '../../src/inference/convert/graph/convert.js';
import { readTfjsModel, packageDir } from '../../src/inference/convert/sources.js';
import { ModelStore } from '../../src/inference/model-store.js';
import { builtinModels } from '../../src/inference/registry.js';
import { InferenceRuntime } from '../../src/inference/runtime.js';
import { fixture } from '../helpers/fixtures.js';

const limits = loadConfig({}).limits;
const graphOnly = (e: (typeof builtinModels)[number]) => {
  const { json, weights } = readTfjsModel(path.join(packageDir(e.source.package), e.source.files[0]!));
  return convertGraphModel(json, weights, e.id);
};

test('the model store converts once, caches by source hash, and a second store finds it', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-models-'));
  try {
    let conversions = 0;
    const store = new ModelStore(dir, (e) => { conversions++; return graphOnly(e); });
    const entry = builtinModels.find((m) => m.id === 'emotion')!;
    assert.equal(store.find(entry), undefined);
    const a = store.prepare(entry);
    const b = new ModelStore(dir, () => { throw new Error('must not convert again'); }).prepare(entry);
    assert.equal(conversions, 1);
    assert.equal(a.onnx, b.onnx);
    assert.match(a.sha256, /^[0-9a-f]{64}$/);
    assert.ok(existsSync(a.onnx) && statSync(a.onnx).size > 100_000);
    assert.deepEqual(a.inputs[0]!.shape, [null, 64, 64, 1]);
    // The registry settings that shape the graph are part of the key: changed, the cached file is not served.
    assert.equal(store.find({ ...entry, fetch: ['Identity'] }), undefined, 'other outputs kept');
    assert.equal(store.find({ ...entry, input: { ...entry.input, layout: 'nchw' } }), undefined, 'other input layout');
    assert.equal(store.find(entry)?.onnx, a.onnx);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('micro-batching: requests that arrive together run as one batch and get exactly their own answers', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-models-'));
  const store = new ModelStore(dir, graphOnly);
  const solo = new InferenceRuntime(store, builtinModels, { threads: 1, concurrencyPerModel: 1, batchWindowMs: 0, maxBatch: 1 });
  const batched = new InferenceRuntime(store, builtinModels, { threads: 1, concurrencyPerModel: 1, batchWindowMs: 20, maxBatch: 8 });
  try {
    const faces = ['angry', 'happy', 'sad', 'surprised', 'neutral'];
    const spec = builtinModels.find((m) => m.id === 'emotion')!.input;
    const tensors = await Promise.all(faces.map(async (f) => toTensor(await probeImage(fixture(`faces/single/${f}.jpg`), limits), { ...spec })));
    const expected = await Promise.all(tensors.map((t) => solo.run('emotion', t)));
    const got = await Promise.all(tensors.map((t) => batched.run('emotion', t)));
    for (let i = 0; i < faces.length; i++) {
      assert.deepEqual(got[i]!.Identity!.dims, [1, 7]);
      for (let k = 0; k < 7; k++) assert.ok(Math.abs(got[i]!.Identity!.data[k]! - expected[i]!.Identity!.data[k]!) < 1e-5, `${faces[i]} class ${k}`);
    }
    // The answers differ between faces, so a batch that mixed them up would fail above.
    assert.notDeepEqual(Array.from(expected[0]!.Identity!.data), Array.from(expected[1]!.Identity!.data));
  } finally {
    await solo.close();
    await batched.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('toTensor: layout, range, crop and letterbox', async () => {
  const probe = await probeImage(fixture('formats/png/rgb8.png'), limits);
  const nhwc = await toTensor(probe, { size: [8, 8], layout: 'nhwc', channels: 3, range: [0, 1] });
  const nchw = await toTensor(probe, { size: [8, 8], layout: 'nchw', channels: 3, range: [0, 1] });
  assert.deepEqual(nhwc.dims, [1, 8, 8, 3]);
  assert.deepEqual(nchw.dims, [1, 3, 8, 8]);
  for (let p = 0; p < 64; p++) for (let c = 0; c < 3; c++) assert.equal(nhwc.data[p * 3 + c], nchw.data[c * 64 + p]);
  assert.ok(Math.max(...nhwc.data) <= 1 && Math.min(...nhwc.data) >= 0);
  const signed = await toTensor(probe, { size: [8, 8], layout: 'nhwc', channels: 3, range: [-1, 1] });
  assert.ok(Math.abs(signed.data[0]! - (nhwc.data[0]! * 2 - 1)) < 1e-6);
  const boxed = await toTensor(probe, { size: [32, 32], layout: 'nhwc', channels: 1, range: [0, 255], fit: 'contain', crop: { x: 0, y: 0, width: 100, height: 50 } });
  assert.deepEqual(boxed.content, { x: 0, y: 0, width: 32, height: 16, scale: 0.32 });
  assert.equal(boxed.data[31 * 32 + 5], 0, 'letterbox rows are black');
});

test('every model declared with a dynamic batch axis gives each image of a batch the answer it gets alone', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-models-'));
  const { convertEntry } = await import('../../src/inference/convert/index.js');
  const store = new ModelStore(dir, convertEntry);
  const runtime = new InferenceRuntime(store, builtinModels, { threads: 2, concurrencyPerModel: 1, batchWindowMs: 0, maxBatch: 1 });
  try {
    const a = await probeImage(fixture('faces/single/happy.jpg'), limits);
    const b = await probeImage(fixture('objects/giraffe.jpg'), limits);
    const dynamic = builtinModels.filter((m) => m.input.batch === 'dynamic' && !m.id.startsWith('esrgan-thick') && m.id !== 'nsfw-inception-v3');
    assert.ok(dynamic.length >= 15);
    for (const m of dynamic) {
      const spec = { ...m.input, size: m.input.size ?? ([24, 24] as [number, number]) };
      const [ta, tb] = [await toTensor(a, spec), await toTensor(b, spec)];
      const single = [await runtime.run(m.id, ta), await runtime.run(m.id, tb)];
      const both = new Float32Array(ta.data.length * 2);
      both.set(ta.data);
      both.set(tb.data, ta.data.length);
      const batched = await runtime.run(m.id, { data: both, dims: [2, ...ta.dims.slice(1)] });
      for (const [name, t] of Object.entries(batched)) {
        assert.equal(t.dims[0], 2, `${m.id} ${name}: batch axis`);
        const rows = [t.data.subarray(0, t.data.length / 2), t.data.subarray(t.data.length / 2)];
        for (const i of [0, 1]) {
          const ref = single[i]![name]!.data;
          let worst = 0;
          for (let k = 0; k < ref.length; k++) worst = Math.max(worst, Math.abs(rows[i]![k]! - ref[k]!) / (Math.abs(ref[k]!) + 1e-3));
          assert.ok(worst < 1e-3, `${m.id} ${name} image ${i}: batched differs from single by ${worst}`);
        }
      }
    }
  } finally {
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
