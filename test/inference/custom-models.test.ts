import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/env.js';
import { probeImage } from '../../src/imaging/probe.js';
import { toTensor } from '../../src/imaging/to-tensor.js';
import { convertEntry } from '../../src/inference/convert/index.js';
import { CustomModelError, loadCustomModels } from '../../src/inference/custom-models.js';
import { allModels, createModelStore, InferenceRuntime, listModels } from '../../src/inference/index.js';
import { builtinModels } from '../../src/inference/registry.js';
import { fixture } from '../helpers/fixtures.js';

/** An operator's own ONNX classifier: here the emotion model, converted and dropped in as a plain .onnx file. */
function operatorDir(manifest: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-custom-'));
  const custom = path.join(dir, 'models', 'custom');
  mkdirSync(custom, { recursive: true });
  writeFileSync(path.join(custom, 'expressions.onnx'), convertEntry(builtinModels.find((m) => m.id === 'emotion')!).onnx);
  writeFileSync(path.join(custom, 'expressions.json'), JSON.stringify(manifest));
  return dir;
}

const good = {
  id: 'my-expressions', task: 'classification', file: 'expressions.onnx', licence: 'MIT',
  input: { size: [64, 64], layout: 'nhwc', channels: 1, range: [0, 1], batch: 'dynamic' },
  outputs: { Identity: 'class probabilities' }, labels: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'],
};

test('an operator model in <data dir>/models/custom is listed and runs like a built-in one', async () => {
  const dir = operatorDir(good);
  try {
    const models = allModels(dir);
    assert.ok(models.some((m) => m.id === 'my-expressions'));
    const row = listModels(dir).find((r) => r.id === 'my-expressions')!;
    assert.deepEqual(row.inputs, [{ name: 'input_1', dtype: 'float32', shape: [null, 64, 64, 1] }]);
    assert.match(row.sha256!, /^[0-9a-f]{64}$/);
    const runtime = new InferenceRuntime(createModelStore(dir), models, { threads: 1, concurrencyPerModel: 1, batchWindowMs: 0, maxBatch: 1 });
    try {
      const limits = loadConfig({}).limits;
      const x = await toTensor(await probeImage(fixture('faces/single/happy.jpg'), limits), { ...good.input, size: [64, 64], layout: 'nhwc', channels: 1, range: [0, 1] });
      const out = await runtime.run('my-expressions', x);
      const p = Array.from(out.Identity!.data);
      assert.equal(p.length, 7);
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-4);
      assert.equal(good.labels[p.indexOf(Math.max(...p))], 'happy', 'the happy face is classified as happy');
    } finally {
      await runtime.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a broken operator manifest is refused with the file and the field named', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...good, id: 'Bad Id' }, /expected id of lower-case letters/],
    [{ ...good, id: 'emotion' }, /expected an id no other model uses but received "emotion"/],
    [{ ...good, task: 'magic' }, /expected task one of .* but received "magic"/],
    [{ ...good, file: '../x.onnx' }, /expected file: the name of an .onnx file/],
    [{ ...good, file: 'missing.onnx' }, /expected missing.onnx to exist/],
    [{ ...good, input: { ...good.input, layout: 'hwc' } }, /expected input.layout nhwc or nchw but received "hwc"/],
    [{ ...good, licence: '' }, /expected a licence/],
  ];
  for (const [manifest, message] of cases) {
    const dir = operatorDir(manifest);
    try {
      assert.throws(() => loadCustomModels(dir, builtinModels.map((m) => m.id)), (err: unknown) => err instanceof CustomModelError && message.test(err.message) && err.message.includes('expressions.json'), JSON.stringify(manifest));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('the server refuses to start on a broken operator manifest or an unknown warm model', () => {
  const dir = operatorDir({ ...good, task: 'magic' });
  try {
    const run = (env: Record<string, string>) => spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
      env: { ...process.env, PORT: '0', ...env }, encoding: 'utf8', timeout: 60_000,
    });
    const broken = run({ IMGSENSE_DATA_DIR: dir });
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, /expressions\.json: expected task one of/);
    const unknown = run({ IMGSENSE_DATA_DIR: path.join(dir, 'other'), IMGSENSE_WARM_MODELS: 'emotion,nope' });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /for IMGSENSE_WARM_MODELS but received "nope"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
