/**
 * One side of one model, in its own process so that its peak RSS is its own: the TF.js wasm reference or the
 * onnxruntime-node sessions on the converted model. Started by bench/inference.ts over IPC (advanced
 * serialization); receives a Job, answers one WorkerMessage and exits.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuMs, measure, peakRssMB, sweep } from './measure.js';
import { mergeSessionExtra } from './session-extra.js';
import type { BatchTiming, Job, OpTime, OutputSample, PoolResult, SideResult, WorkerMessage } from './protocol.js';
import type * as ortTypes from 'onnxruntime-node';

const baseRssMB = () => process.memoryUsage().rss / 1024 / 1024;

function batchOf(job: Job, batch: number): Float32Array {
  return job.images.subarray(0, job.perImage * batch);
}

function shapeOf(job: Job, batch: number): number[] {
  return [batch, ...job.shape.slice(1)];
}

async function runTfjs(job: Job): Promise<SideResult> {
  const { loadTfModel, tf, tfReady } = await import('./tfjs-models.js');
  const env = await tfReady();
  const base = baseRssMB();
  const t0 = performance.now();
  const model = await loadTfModel(job.source.format, job.source.file);
  const loadMs = performance.now() - t0;
  const notes: string[] = [];
  const runner = (batch: number) => {
    const x = tf.tensor(batchOf(job, batch), shapeOf(job, batch));
    return { x, run: () => model.run(x) };
  };
  const one = runner(1);
  const outputs: OutputSample[] = await one.run();
  const before = tf.memory().numTensors;
  const b1 = await measure(one.run, job.measure);
  const leaked = tf.memory().numTensors - before;
  if (leaked > 0) notes.push(`TF.js: ${leaked} tensors left after the b1 runs`);
  const peakB1 = peakRssMB();
  const made: { dispose(): void }[] = [one.x];
  const sw = await sweep(job.batches, b1, async (batch) => {
    const r = runner(batch);
    made.push(r.x);
    await r.run(); // a batch the model refuses fails here, before timing
    return r.run;
  }, job.measure);
  const peak = peakRssMB();
  for (const t of made) t.dispose();
  return { side: 'tfjs', loadMs, latency: { tfjs: b1 }, sweep: sw, outputs, baseRssMB: base, peakRssB1MB: peakB1, peakRssMB: peak, cpuMs: cpuMs(), notes, env: { ...env, kind: model.kind } };
}

async function runOrt(job: Job): Promise<SideResult> {
  const ort = await import('onnxruntime-node');
  const base = baseRssMB();
  const notes: string[] = [];
  const inputName = job.inputName!;
  // The session options InferenceRuntime uses (src/inference/runtime.ts), with the thread count varied.
  const { sessionOptions } = await import('../../src/inference/runtime.js');
  const options = (threads: number): ortTypes.InferenceSession.SessionOptions => {
    const base = sessionOptions(threads);
    const extra = mergeSessionExtra(base.extra as Record<string, unknown> | undefined, job.ortExtra);
    return { ...base, graphOptimizationLevel: job.optLevel ?? 'all', ...(extra && { extra }) };
  };
  const feeds = (batch: number) => ({ [inputName]: new ort.Tensor('float32', batchOf(job, batch), shapeOf(job, batch)) });
  const read = (out: ortTypes.InferenceSession.ReturnType): OutputSample[] =>
    Object.entries(out).map(([name, t]) => ({ name, dims: [...t.dims], data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>) }));

  const latency: SideResult['latency'] = {};
  let loadMs = 0;
  let outputs: OutputSample[] = [];
  let sw: SideResult['sweep'] = [];
  let peakB1 = 0;
  const threads = [...job.threads].sort((a, b) => a - b);
  const most = threads[threads.length - 1]!;
  for (const n of threads) {
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(job.onnxPath!, options(n));
    if (n === most) loadMs = performance.now() - t0;
    const f1 = feeds(1);
    const run1 = () => session.run(f1);
    if (n === most) outputs = read(await run1());
    latency[String(n)] = await measure(run1, job.measure);
    if (n === most) {
      peakB1 = peakRssMB();
      sw = await sweep(job.batches, latency[String(n)]!, async (batch) => {
        const f = feeds(batch);
        await session.run(f);
        return () => session.run(f);
      }, job.measure);
    }
    await session.release();
  }
  const peak = peakRssMB();
  const pool = await runPool(job, options(1));

  // Not timed: one more session that dumps onnxruntime's optimized graph and profiles a few b1 runs.
  let opTimes: OpTime[] | undefined;
  let profileRunMs: number | undefined;
  if (job.profileRuns > 0 && job.profilePrefix) {
    try {
      const session = await ort.InferenceSession.create(job.onnxPath!, {
        ...options(most),
        ...(job.optimizedPath && { optimizedModelFilePath: job.optimizedPath }),
        enableProfiling: true,
        profileFilePrefix: job.profilePrefix,
      });
      const f1 = feeds(1);
      for (let i = 0; i < job.profileRuns; i++) await session.run(f1);
      session.endProfiling();
      await session.release();
      ({ opTimes, profileRunMs } = readProfile(job.profilePrefix, job.profileRuns));
    } catch (err) {
      notes.push(`profiling failed: ${String(err).slice(0, 200)}`);
    }
  }
  return { side: 'ort', loadMs, latency, sweep: sw, pool, outputs, baseRssMB: base, peakRssB1MB: peakB1, peakRssMB: peak, cpuMs: cpuMs(), notes, opTimes, profileRunMs, env: { ort: ort.env.versions?.common } };
}

/**
 * The path the server runs (src/inference/session-pool.ts, InferenceRuntime's defaults): one worker thread per
 * core, each with a single-threaded session, fed by twice as many callers as workers so that a worker never
 * waits for its caller to turn around; every run pays the copy of its input to the worker and the transfer of
 * its outputs back. images/s = images answered / wall time, per batch size, each for half the budget (at least
 * two runs per worker); a batch whose runs would not fit is skipped as in the sweep.
 */
async function runPool(job: Job, options: ortTypes.InferenceSession.SessionOptions): Promise<PoolResult> {
  const { SessionPool } = await import('../../src/inference/session-pool.js');
  const lanes = os.availableParallelism();
  const pool = new SessionPool(lanes, 1);
  const spec = { key: job.id, file: job.onnxPath!, options: options as Record<string, unknown> };
  const out: BatchTiming[] = [];
  try {
    await pool.runOnEach(spec, { data: batchOf(job, 1), dims: shapeOf(job, 1) });
    let perImage = Infinity;
    for (const batch of [...job.batches].sort((a, b) => a - b)) {
      const input = { data: batchOf(job, batch), dims: shapeOf(job, batch) };
      if (Number.isFinite(perImage) && perImage * batch * 2 > job.measure.budgetMs) {
        out.push({ batch, skipped: `two runs would take ~${((perImage * batch * 2) / 1000).toFixed(1)} s` });
        continue;
      }
      await pool.runOnEach(spec, input); // warm each worker at this shape
      let images = 0;
      let runs = 0;
      const start = performance.now();
      const end = start + job.measure.budgetMs / 2;
      await Promise.all(Array.from({ length: 2 * lanes }, async () => {
        while (performance.now() < end || runs < 2 * lanes) {
          runs++;
          await pool.run(spec, input);
          images += batch;
        }
      }));
      const imagesPerSecond = (images * 1000) / (performance.now() - start);
      perImage = Math.min(perImage, (1000 / imagesPerSecond) * lanes);
      out.push({ batch, imagesPerSecond });
    }
  } finally {
    await pool.close();
  }
  return { lanes, threads: 1, sweep: out };
}

/** Kernel time per op type from onnxruntime's chrome-trace profile, averaged over the profiled runs. */
function readProfile(prefix: string, runs: number): { opTimes: OpTime[]; profileRunMs: number } {
  const dir = path.dirname(prefix);
  const base = path.basename(prefix);
  const files = readdirSync(dir).filter((f) => f.startsWith(base) && f.endsWith('.json'));
  if (files.length === 0) throw new Error(`no profile written under ${prefix}`);
  const events = JSON.parse(readFileSync(path.join(dir, files[0]!), 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  for (const f of files) rmSync(path.join(dir, f), { force: true });
  const byOp = new Map<string, { us: number; nodes: Set<string> }>();
  let runUs = 0;
  let total = 0;
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run') runUs += e.dur;
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    const entry = byOp.get(op) ?? { us: 0, nodes: new Set<string>() };
    entry.us += e.dur;
    entry.nodes.add(e.name);
    byOp.set(op, entry);
    total += e.dur;
  }
  const opTimes = [...byOp].map(([op, v]) => ({ op, usPerRun: v.us / runs, share: total ? v.us / total : 0, nodes: v.nodes.size }))
    .sort((a, b) => b.usPerRun - a.usPerRun);
  return { opTimes, profileRunMs: runUs / runs / 1000 };
}

process.once('message', async (job: Job) => {
  let msg: WorkerMessage;
  try {
    msg = { type: 'result', result: job.side === 'tfjs' ? await runTfjs(job) : await runOrt(job) };
  } catch (err) {
    msg = { type: 'error', message: String((err as Error)?.message ?? err).slice(0, 2000), stack: (err as Error)?.stack?.slice(0, 2000) };
  }
  process.send!(msg, () => process.exit(0));
});
