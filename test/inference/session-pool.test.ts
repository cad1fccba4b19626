import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/env.js';
import { probeImage } from '../../src/imaging/probe.js';
import { toTensor } from '../../src/imaging/to-tensor.js';
import { convertGraphModel } from '../../src/inference/convert/graph/convert.js';
import { readTfjsModel, packageDir } from '../../src/inference/convert/sources.js';
import { ModelStore } from '../../src/inference/model-store.js';
import { builtinModels } from '../../src/inference/registry.js';
import { sessionOptions } from '../../src/inference/runtime.js';
import { SessionPool, type RunBudget } from '../../src/inference/session-pool.js';
import { fixture } from '../helpers/fixtures.js';

/** The emotion model converted into `dir`: small enough to convert in a test, with a dynamic batch axis. */
function prepareEmotion(dir: string) {
  const entry = builtinModels.find((m) => m.id === 'emotion')!;
  const prepared = new ModelStore(dir, (e) => {
    const { json, weights } = readTfjsModel(path.join(packageDir(e.source.package), e.source.files[0]!));
    return convertGraphModel(json, weights, e.id);
  }).prepare(entry);
  return { entry, prepared };
}

/** A budget that records how many runs held it at once. */
function spyBudget(): RunBudget & { taken: number; most: number } {
  let now = 0;
  const spy = {
    taken: 0,
    most: 0,
    async run<T>(_weight: number, fn: () => Promise<T>): Promise<T> {
      spy.taken++;
      spy.most = Math.max(spy.most, ++now);
      try {
        return await fn();
      } finally {
        now--;
      }
    },
  };
  return spy;
}

test('session pool: a single-threaded lane takes a second run behind the first, skips the budget, and answers each its own', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-pool-'));
  const { entry, prepared } = prepareEmotion(dir);
  const spec = (threads: number) => ({ key: `emotion:${threads}`, file: prepared.onnx, options: sessionOptions(threads) as Record<string, unknown> });
  const limits = loadConfig({}).limits;
  const faces = ['angry', 'happy', 'sad', 'surprised', 'neutral'];
  const inputs = await Promise.all(faces.map(async (f) => toTensor(await probeImage(fixture(`faces/single/${f}.jpg`), limits), { ...entry.input })));
  const single = spyBudget();
  const multi = spyBudget();
  const one = new SessionPool(1, 1, single);
  const two = new SessionPool(1, 2, multi);
  try {
    assert.equal(one.capacity, 2, 'a single-threaded lane holds its run and one queued');
    assert.equal(two.capacity, 1, 'a multi-threaded lane holds one run');
    // Five runs at once on one lane: two in the worker at a time, each answer matched to its own input.
    const got = await Promise.all(inputs.map((t) => one.run(spec(1), t)));
    const alone: Float32Array[] = [];
    for (const t of inputs) alone.push((await two.run(spec(2), t)).Identity!.data);
    for (let i = 0; i < faces.length; i++) assert.deepEqual(Array.from(got[i]!.Identity!.data), Array.from(alone[i]!), faces[i]);
    assert.notDeepEqual(Array.from(alone[0]!), Array.from(alone[1]!), 'the faces differ, so a mix-up would show');
    assert.equal(single.taken, 0, 'single-threaded runs never wait for the budget');
    assert.equal(multi.taken, faces.length, 'multi-threaded runs each hold the budget');
    await Promise.all(inputs.map((t) => two.run(spec(2), t)));
    assert.equal(multi.most, 1, 'one multi-threaded run at a time on a lane');
  } finally {
    await one.close();
    await two.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('session pool: each run is timed alone, though a lane holds a second run queued behind it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-pool-'));
  const { entry, prepared } = prepareEmotion(dir);
  const runs: { ms: number; cpu: number | undefined }[] = [];
  const spec = { key: 'emotion:timed', file: prepared.onnx, options: sessionOptions(1) as Record<string, unknown>, timed: (ms: number, cpu?: number) => { runs.push({ ms, cpu }); } };
  const face = await toTensor(await probeImage(fixture('faces/single/happy.jpg'), loadConfig({}).limits), { ...entry.input });
  // A batch of 32 faces: a run of several milliseconds, long enough to see one counted inside another.
  const batch = { data: new Float32Array(face.data.length * 32), dims: [32, ...face.dims.slice(1)] };
  for (let i = 0; i < 32; i++) batch.data.set(face.data, i * face.data.length);
  const pool = new SessionPool(1, 1);
  try {
    await pool.run(spec, batch); // loads the session
    runs.length = 0;
    const start = performance.now();
    await Promise.all(Array.from({ length: 6 }, () => pool.run(spec, batch)));
    const elapsed = performance.now() - start;
    assert.equal(runs.length, 6);
    // One worker runs them one after another: their times cannot add up to more than the time they all took.
    const wall = runs.reduce((t, r) => t + r.ms, 0);
    assert.ok(wall <= elapsed + 1, `run times add up to ${wall.toFixed(1)} ms within ${elapsed.toFixed(1)} ms`);
    if (process.platform === 'linux') {
      const cpu = runs.reduce((t, r) => t + (r.cpu ?? NaN), 0);
      assert.ok(cpu > 0 && cpu <= wall * 1.1 + 1, `CPU ${cpu.toFixed(1)} ms for runs of ${wall.toFixed(1)} ms`);
    }
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
