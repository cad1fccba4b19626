/**
 * Inference speed: our path (the converted ONNX model on onnxruntime-node) against the reference (the same
 * TF.js model on the wasm backend), for every served model in the registry that converts.
 *
 *   npm run bench:inference -- [--models a,b,c] [--quick] [--json] [--n N] [--budget S] [--batches 1,2,4,8]
 *        [--idle-wait S] [--no-profile] [--keep] [--ort-config key=value ...]
 *        [--opt-level all|extended|basic]
 *
 * - Models: src/inference/registry.ts builtinModels (--models picks some). Each is converted with convertEntry
 *   (src/inference/convert/index.ts); when that module cannot load yet, graph models are converted with
 *   convertGraphModel directly. Models whose conversion throws are listed as skipped, with the error.
 * - Inputs: real photos from ../shared/fixtures (faces/single/*.jpg for face and segmentation models,
 *   objects/*.jpg for the others), resized to the model's input (ESRGAN: 128x128), scaled to its range and
 *   layout. Both sides get the same Float32Array; a batch of B holds B different photos.
 * - Each side runs in its own child process (bench/lib/inference-worker.ts), one after the other, so peak RSS
 *   (maxRSS of that child, measured after its timed runs) is per side; it includes Node, tsx and the runtime
 *   library (~60-90 MB before the model is loaded, "base" in --json). The ORT child runs the 1-thread and the
 *   2-thread session one after the other, so its peak is the larger of the two. The table gives the peak after
 *   the batch-1 runs, and in brackets the peak after the batch sweep when that is over 10% higher.
 * - Timing: median of N runs (20; --quick: 5) after 3 warm-ups, a measurement stopping early once it has spent
 *   --budget seconds (5; --quick: 2.5) with at least 3 runs. Latency is batch 1. Throughput is images/s at the
 *   best batch of --batches (1,2,4,8; --quick: 1,4) for models with a dynamic batch axis (batch 1 for fixed ones),
 *   with 2 intra-op threads on our side; TF.js runs the same batches. A batch whose single run would exceed the
 *   budget is skipped. Every run includes reading the outputs back into JS.
 * - The server's path, measured too (bench/lib/inference-worker.ts runPool): the model through InferenceRuntime's
 *   worker pool as the server runs it on this machine, one single-threaded session per core, callers copying
 *   inputs in and receiving outputs, at each batch size. On 2 cores this is also "2 threads"; for small models it
 *   beats one session with 2 intra-op threads (which synchronise inside every run). The ratio uses the better
 *   of the two; both columns are printed.
 * - ORT sessions use InferenceRuntime's options (sessionOptions in src/inference/runtime.ts: graphOptimizationLevel
 *   'all', sequential, 1 inter-op thread, threads stop spinning after a run); --ort-config adds or overrides session
 *   config entries (SessionOptions.extra), e.g. session.force_spinning_stop=0;
 *   --opt-level changes graphOptimizationLevel (e.g. 'extended': no NCHWc layout transformer) for experiments.
 *   After the timed part, one more session dumps onnxruntime's optimized graph (node counts by op type: Transpose
 *   nodes before and after optimization) and profiles a few batch-1 runs (kernel time by op type).
 * - "others" is the CPU (in cores) used by other processes while each side ran, from /proc/stat: on this shared
 *   2-core machine a high value means the numbers are low. --idle-wait S (default 15; --quick: 0) waits up to S
 *   seconds before each side for the machine to go idle.
 *
 * The table goes to stdout (with --json the JSON goes to stdout and the table to stderr); progress to stderr.
 * The exit code is 0 unless a worker crashed or a measurement failed; skipped conversions are not failures.
 * The goal (>= 8x TF.js-wasm throughput on every served model) is reported, never asserted.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { ConvertedModel } from '../src/inference/convert/graph/convert.js';
import { packageDir } from '../src/inference/convert/sources.js';
import { builtinModels, type ModelEntry } from '../src/inference/registry.js';
import { relativeL2 } from '../test/helpers/relative-l2.js';
import { best } from './lib/measure.js';
import { countOps, isLayoutOp, opCount } from './lib/onnx-ops.js';
import type { Job, MeasureOptions, OutputSample, SideResult, WorkerMessage } from './lib/protocol.js';
import { nestSessionExtra } from './lib/session-extra.js';
import { cpuJiffies, othersCores, waitForIdle } from './lib/system.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const fixturesDir = path.resolve(root, '../shared/fixtures');
const GOAL = 8;
const ESRGAN_SIZE: [number, number] = [128, 128];

// ---------------------------------------------------------------------------------------------------------------
// Options

interface Options {
  models: string[] | undefined;
  quick: boolean;
  json: boolean;
  measure: MeasureOptions;
  batches: number[];
  threads: number[];
  idleWait: number;
  rounds: number;
  profile: boolean;
  keep: boolean;
  ortConfig: Record<string, string>;
  optLevel: 'basic' | 'extended' | 'all';
}

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write('usage: tsx bench/inference.ts [--models a,b,c] [--quick] [--json] [--n N] [--budget S] [--batches 1,2,4,8] [--idle-wait S] [--rounds N] [--no-profile] [--keep] [--ort-config key=value ...] [--opt-level all|extended|basic]\n');
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const opts: Options = {
    models: undefined,
    quick,
    json: false,
    measure: { n: quick ? 5 : 20, warmups: 3, budgetMs: quick ? 2500 : 5000, minSamples: 3 },
    batches: quick ? [1, 4] : [1, 2, 4, 8],
    threads: [1, 2],
    idleWait: quick ? 0 : 15,
    rounds: 1,
    profile: true,
    keep: false,
    ortConfig: {},
    optLevel: 'all',
  };
  const num = (v: string | undefined, name: string) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) usage(`${name} needs a number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--quick': break;
      case '--json': opts.json = true; break;
      case '--keep': opts.keep = true; break;
      case '--no-profile': opts.profile = false; break;
      case '--models': opts.models = (argv[++i] ?? usage('--models needs a list')).split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--n': opts.measure.n = Math.max(1, Math.round(num(argv[++i], a))); opts.measure.minSamples = Math.min(opts.measure.minSamples, opts.measure.n); break;
      case '--budget': opts.measure.budgetMs = num(argv[++i], a) * 1000; break;
      case '--idle-wait': opts.idleWait = num(argv[++i], a); break;
      case '--rounds': opts.rounds = Math.max(1, Math.round(num(argv[++i], a))); break;
      case '--ort-config': {
        const kv = argv[++i] ?? usage('--ort-config needs key=value');
        const eq = kv.indexOf('=');
        if (eq <= 0) usage('--ort-config needs key=value');
        opts.ortConfig[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
      case '--opt-level': {
        const v = argv[++i];
        if (v !== 'all' && v !== 'extended' && v !== 'basic') usage('--opt-level is all, extended or basic');
        opts.optLevel = v;
        break;
      }
      case '--batches': opts.batches = (argv[++i] ?? usage('--batches needs a list')).split(',').map((s) => Math.round(num(s, a))).filter((n) => n >= 1); break;
      case '--help': case '-h': usage();
      // falls through (usage exits)
      default: usage(`unknown argument ${a}`);
    }
  }
  if (!opts.batches.includes(1)) opts.batches.unshift(1);
  return opts;
}

const log = (msg: string) => process.stderr.write(`${msg}\n`);

// ---------------------------------------------------------------------------------------------------------------
// Conversion

type Convert = (entry: ModelEntry) => ConvertedModel;

/** convertEntry when src/inference/convert/index.ts loads; else graph models only, and why. */
async function loadConverter(): Promise<{ convert: Convert; note?: string }> {
  try {
    const mod = await import('../src/inference/convert/index.js');
    return { convert: mod.convertEntry };
  } catch (err) {
    const why = String((err as Error)?.message ?? err).split('\n')[0]!.slice(0, 300);
    const { convertGraphModel } = await import('../src/inference/convert/graph/convert.js');
    const { readTfjsModel } = await import('../src/inference/convert/sources.js');
    return {
      note: `src/inference/convert/index.ts did not load (${why}); graph models were converted with convertGraphModel directly`,
      convert: (entry) => {
        if (entry.source.format !== 'tfjs-graph') throw new Error(`${entry.source.format} needs convertEntry, which did not load: ${why}`);
        const { json, weights } = readTfjsModel(path.join(packageDir(entry.source.package), entry.source.files[0]!));
        return convertGraphModel(json, weights, entry.id);
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Inputs

function photosFor(entry: ModelEntry): string[] {
  const dir = entry.task.startsWith('face-') || entry.task === 'segmentation' ? 'faces/single' : 'objects';
  const files = readdirSync(path.join(fixturesDir, dir)).filter((f) => /\.jpe?g$/i.test(f)).sort();
  if (files.length === 0) throw new Error(`no JPEG fixtures in ${dir}`);
  return files.map((f) => path.join(dir, f));
}

/** `tfjs`: the same images in NHWC for a model whose converted graph takes NCHW where TF.js takes NHWC. */
interface Inputs { images: Float32Array; perImage: number; shape: number[]; photos: string[]; size: [number, number]; tfjs?: { images: Float32Array; shape: number[] } }

/** maxBatch photos, resized (fill) to the model's input, mapped to its range, in its layout. */
async function prepareInputs(entry: ModelEntry, converted: ConvertedModel, maxBatch: number, notes: string[]): Promise<Inputs> {
  const spec = entry.input;
  const nchw = spec.layout === 'nchw';
  const c = spec.channels;
  let [h, w] = spec.size ?? ESRGAN_SIZE;
  const shape = converted.inputs[0]?.shape ?? [];
  const [ch, cw] = nchw ? [shape[2], shape[3]] : [shape[1], shape[2]];
  if (typeof ch === 'number' && typeof cw === 'number' && (ch !== h || cw !== w)) {
    notes.push(`registry says ${h}x${w}, the converted model takes ${ch}x${cw}: used the latter`);
    [h, w] = [ch, cw];
  }
  const all = photosFor(entry);
  const photos = Array.from({ length: maxBatch }, (_, i) => all[i % all.length]!);
  const perImage = h * w * c;
  const images = new Float32Array(perImage * maxBatch);
  const tfjsImages = nchw && converted.inputs[0]?.fromNhwc ? new Float32Array(perImage * maxBatch) : undefined;
  const [lo, hi] = spec.range;
  const scale = (hi - lo) / 255;
  for (let b = 0; b < maxBatch; b++) {
    const raw = await sharp(path.join(fixturesDir, photos[b]!)).resize(w, h, { fit: 'fill' }).toColourspace(c === 1 ? 'b-w' : 'srgb').removeAlpha().raw().toBuffer();
    if (raw.length !== perImage) throw new Error(`${photos[b]}: decoded ${raw.length} values, expected ${perImage}`);
    const out = images.subarray(b * perImage, (b + 1) * perImage);
    if (!nchw) for (let i = 0; i < perImage; i++) out[i] = raw[i]! * scale + lo;
    else for (let i = 0; i < h * w; i++) for (let k = 0; k < c; k++) out[k * h * w + i] = raw[i * c + k]! * scale + lo;
    if (tfjsImages) for (let i = 0; i < perImage; i++) tfjsImages[b * perImage + i] = raw[i]! * scale + lo;
  }
  return {
    images, perImage, shape: nchw ? [1, c, h, w] : [1, h, w, c], photos: [...new Set(photos)], size: [h, w],
    ...(tfjsImages && { tfjs: { images: tfjsImages, shape: [1, h, w, c] } }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Workers

interface Phase { result?: SideResult; error?: string; wallMs: number; othersCores?: number; idleWaited?: number }

async function runWorker(job: Job, idleWait: number): Promise<Phase> {
  let idleWaited: number | undefined;
  if (idleWait > 0) idleWaited = (await waitForIdle(idleWait)).waited;
  const j0 = cpuJiffies();
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  const child = fork(path.join(here, 'lib/inference-worker.ts'), [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  // TF.js failures can print megabytes of wasm glue: keep only the tail of what the worker prints.
  let tail = '';
  const keep = (chunk: Buffer) => { tail = (tail + chunk.toString()).slice(-3000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const timeoutMs = 20 * 60_000;
  const outcome = await new Promise<{ msg?: WorkerMessage; code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }>((resolve) => {
    let msg: WorkerMessage | undefined;
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('message', (m: WorkerMessage) => { msg = m; });
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ msg, code, signal, timedOut }); });
    child.on('error', (err) => { tail += `\n${String(err)}`; });
    child.send(job);
  });
  const wallMs = performance.now() - t0;
  const own = process.cpuUsage(own0);
  const ownMs = (own.user + own.system) / 1000;
  const phase: Phase = { wallMs, idleWaited };
  if (outcome.msg?.type === 'result') {
    phase.result = outcome.msg.result;
    phase.othersCores = othersCores(j0, cpuJiffies(), wallMs, ownMs + outcome.msg.result.cpuMs);
  } else if (outcome.msg?.type === 'error') {
    phase.error = `${outcome.msg.message}${outcome.msg.stack ? `\n${outcome.msg.stack.split('\n').slice(1, 6).join('\n')}` : ''}`;
  } else {
    phase.error = outcome.timedOut ? `worker timed out after ${timeoutMs / 1000} s` : `worker exited (code ${outcome.code}, signal ${outcome.signal}) without a result; its output ended with:\n${tail.slice(-1500)}`;
  }
  return phase;
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison of the two sides' batch-1 outputs (a check that both ran the same computation)

function compareOutputs(ours: OutputSample[], ref: OutputSample[]): { maxRelL2?: number; note?: string } {
  const byName = new Map(ours.map((o) => [o.name, o]));
  let max: number | undefined;
  const unmatched: string[] = [];
  ref.forEach((r, i) => {
    let o = byName.get(r.name);
    if (!o && ours.length === ref.length) o = ours[i];
    if (!o || o.data.length !== r.data.length) {
      unmatched.push(r.name);
      return;
    }
    const e = relativeL2(o.data, r.data);
    max = max === undefined ? e : Math.max(max, e);
  });
  return { maxRelL2: max, note: unmatched.length ? `no matching ONNX output for TF.js output(s) ${unmatched.join(', ')}` : undefined };
}

// ---------------------------------------------------------------------------------------------------------------
// Per model

interface ModelReport {
  id: string;
  format: string;
  input: { shape: number[]; photos: string[] };
  dynamicBatch: boolean;
  convertMs: number;
  onnxMB: number;
  tfjs: Phase;
  ort: Phase;
  transposes: { converted: number; optimized?: number; reorders?: number };
  nodes: { converted: number; optimized?: number };
  optimizedOps?: Record<string, number>;
  compare?: { maxRelL2?: number; note?: string };
  summary?: {
    tfjsB1Ms: number; ort1B1Ms?: number; ort2B1Ms: number;
    tfjsBest: { batch: number; imagesPerSecond: number };
    oursBest: { batch: number; imagesPerSecond: number };
    /** The server's worker pool (one single-threaded worker per core), best batch. */
    poolBest?: { batch: number; imagesPerSecond: number };
    /** The better of oursBest and poolBest over tfjsBest. */
    ratio: number; latencyRatio: number;
  };
  notes: string[];
}

async function benchModel(entry: ModelEntry, converted: ConvertedModel, convertMs: number, opts: Options, dir: string): Promise<ModelReport> {
  const notes: string[] = [];
  const inputDims = converted.inputs[0]?.shape ?? [];
  if (converted.inputs.length !== 1) notes.push(`the converted model has ${converted.inputs.length} inputs; fed the first`);
  const convertedDynamic = inputDims[0] === null || inputDims[0] === undefined || inputDims[0] === -1;
  const dynamicBatch = entry.input.batch === 'dynamic' && convertedDynamic;
  if ((entry.input.batch === 'dynamic') !== convertedDynamic) {
    notes.push(`registry batch '${entry.input.batch}' but the converted input is [${inputDims.map((d) => d ?? '?').join(',')}]: measured batch ${dynamicBatch ? 'sweep' : '1 only'}`);
  }
  const batches = dynamicBatch ? opts.batches : [1];
  const inputs = await prepareInputs(entry, converted, Math.max(...batches), notes);
  const onnxPath = path.join(dir, `${entry.id}.onnx`);
  writeFileSync(onnxPath, converted.onnx);
  const before = countOps(converted.onnx);
  const file = path.join(packageDir(entry.source.package), entry.source.files[0]!);
  const common = { id: entry.id, source: { format: entry.source.format, file }, images: inputs.images, perImage: inputs.perImage, shape: inputs.shape, batches, measure: opts.measure };

  // Rounds alternate the sides (TF.js, ORT, TF.js, ORT, ...) and keep each side's best round: on a shared host
  // the same model's TF.js b1 time moved 28 -> 48 ms between runs minutes apart, with this VM idle.
  let tfjs: Phase | undefined;
  let ort: Phase | undefined;
  const optimizedPath = path.join(dir, `${entry.id}.optimized.onnx`);
  for (let round = 0; round < opts.rounds; round++) {
    const of = opts.rounds > 1 ? ` (round ${round + 1} of ${opts.rounds})` : '';
    log(`  ${entry.id}: TF.js wasm${of} ...`);
    tfjs = betterPhase(tfjs, await runWorker({ ...common, ...inputs.tfjs, side: 'tfjs', threads: [1], profileRuns: 0 }, opts.idleWait));
    log(`  ${entry.id}: onnxruntime-node${of} ...`);
    const profile = opts.profile && round === 0;
    ort = betterPhase(ort, await runWorker({
      ...common, side: 'ort', threads: opts.threads, onnxPath, inputName: converted.inputs[0]?.name ?? 'input',
      optimizedPath: profile ? optimizedPath : undefined, profilePrefix: profile ? path.join(dir, `${entry.id}.profile`) : undefined,
      profileRuns: profile ? (opts.quick ? 5 : 10) : 0, ortExtra: nestSessionExtra(opts.ortConfig), optLevel: opts.optLevel,
    }, opts.idleWait));
  }
  if (tfjs!.error) log(`  ${entry.id}: TF.js side failed: ${tfjs!.error.split('\n')[0]}`);
  if (ort!.error) log(`  ${entry.id}: ORT side failed: ${ort!.error.split('\n')[0]}`);
  return report(entry, converted, convertMs, opts, { inputs, onnxPath, optimizedPath, before, notes, dynamicBatch }, tfjs!, ort!);
}

/** The round with the higher best throughput (either of ORT's two ways), the first when one failed; profiles kept. */
function betterPhase(a: Phase | undefined, b: Phase): Phase {
  if (!a?.result) return b.result || !a ? b : a;
  if (!b.result) return a;
  const top = (r: SideResult) => Math.max(best(r.sweep)?.imagesPerSecond ?? 0, r.pool ? best(r.pool.sweep)?.imagesPerSecond ?? 0 : 0);
  if (top(b.result) <= top(a.result)) return a;
  return { ...b, result: { ...b.result, opTimes: b.result.opTimes ?? a.result.opTimes, profileRunMs: b.result.profileRunMs ?? a.result.profileRunMs } };
}

interface Prepared {
  inputs: Awaited<ReturnType<typeof prepareInputs>>;
  onnxPath: string;
  optimizedPath: string;
  before: Map<string, number>;
  notes: string[];
  dynamicBatch: boolean;
}

function report(entry: ModelEntry, converted: ConvertedModel, convertMs: number, opts: Options, p: Prepared, tfjs: Phase, ort: Phase): ModelReport {
  const { inputs, optimizedPath, before, notes, dynamicBatch } = p;

  const report: ModelReport = {
    id: entry.id, format: entry.source.format, input: { shape: inputs.shape, photos: inputs.photos }, dynamicBatch, convertMs,
    onnxMB: converted.onnx.length / 1e6, tfjs, ort,
    transposes: { converted: opCount(before, 'Transpose') },
    nodes: { converted: [...before.values()].reduce((a, b) => a + b, 0) },
    notes,
  };
  if (opts.profile && ort.result) {
    try {
      const after = countOps(readFileSync(optimizedPath));
      report.transposes.optimized = opCount(after, 'Transpose');
      report.transposes.reorders = opCount(after, 'ReorderInput') + opCount(after, 'ReorderOutput');
      report.nodes.optimized = [...after.values()].reduce((a, b) => a + b, 0);
      report.optimizedOps = Object.fromEntries([...after].sort((a, b) => b[1] - a[1]));
    } catch (err) {
      notes.push(`could not read the optimized model: ${String(err).slice(0, 200)}`);
    }
  }
  for (const p of [tfjs, ort]) for (const n of p.result?.notes ?? []) notes.push(n);
  if (tfjs.result && ort.result) {
    report.compare = compareOutputs(ort.result.outputs, tfjs.result.outputs);
    if (report.compare.note) notes.push(report.compare.note);
    const tb = best(tfjs.result.sweep);
    const ob = best(ort.result.sweep);
    const pb = ort.result.pool ? best(ort.result.pool.sweep) : undefined;
    const most = String(Math.max(...opts.threads));
    const t1 = tfjs.result.latency.tfjs!;
    const o2 = ort.result.latency[most]!;
    if (tb && ob) {
      report.summary = {
        tfjsB1Ms: t1.medianMs, ort1B1Ms: ort.result.latency['1']?.medianMs, ort2B1Ms: o2.medianMs,
        tfjsBest: { batch: tb.batch, imagesPerSecond: tb.imagesPerSecond! },
        oursBest: { batch: ob.batch, imagesPerSecond: ob.imagesPerSecond! },
        ...(pb && { poolBest: { batch: pb.batch, imagesPerSecond: pb.imagesPerSecond! } }),
        ratio: Math.max(ob.imagesPerSecond!, pb?.imagesPerSecond ?? 0) / tb.imagesPerSecond!,
        latencyRatio: t1.medianMs / o2.medianMs,
      };
    }
    for (const [side, r] of [['TF.js', tfjs.result], ['ORT', ort.result]] as const) {
      for (const s of r.sweep) if (s.skipped) notes.push(`${side} batch ${s.batch} skipped: ${s.skipped}`);
      for (const s of r.pool?.sweep ?? []) if (s.skipped) notes.push(`${side} worker pool batch ${s.batch} skipped: ${s.skipped}`);
      const capped = [...Object.entries(r.latency)].filter(([, t]) => t.capped).map(([k, t]) => `${k === 'tfjs' ? '' : `${k}t `}b1 ${t.samples} runs`);
      capped.push(...r.sweep.filter((s) => s.batch > 1 && s.timing?.capped).map((s) => `b${s.batch} ${s.timing!.samples} runs`));
      if (capped.length) notes.push(`${side} capped by the ${opts.measure.budgetMs / 1000} s budget: ${capped.join(', ')}`);
    }
  }
  return report;
}

// ---------------------------------------------------------------------------------------------------------------
// Report

const f1 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const pct = (n: number) => `${(n * 100).toFixed(0)}%`;
const sci = (n: number | undefined) => (n === undefined ? '–' : n.toExponential(1));

function rss(t: SideResult, o: SideResult): string {
  const b1 = `${f1(t.peakRssB1MB)} / ${f1(o.peakRssB1MB)}`;
  const grew = t.peakRssMB > 1.1 * t.peakRssB1MB || o.peakRssMB > 1.1 * o.peakRssB1MB;
  return grew ? `${b1} [${f1(t.peakRssMB)} / ${f1(o.peakRssMB)}]` : b1;
}

function table(reports: ModelReport[], opts: Options): string {
  const rows: string[] = [];
  rows.push('| model | input | batch | TF.js b1 ms | ours b1 ms 1t | ours b1 ms 2t | TF.js img/s (b) | ours img/s 2t (b) | ours img/s, server workers (b) | ours/TF.js thr. | b1 2t speed-up | ≥8x | peak RSS MB TF.js / ours, b1 [sweep] | Transpose conv → opt (+NCHWc reorders) | layout ops % of ORT time | rel L2 vs TF.js | CPU used by others (cores) |');
  rows.push('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|:-:|---:|---:|---:|---:|---:|');
  for (const r of reports) {
    const s = r.summary;
    const t = r.tfjs.result;
    const o = r.ort.result;
    const shape = r.input.shape.slice(1).join('x');
    const layoutShare = o?.opTimes ? o.opTimes.filter((x) => isLayoutOp(x.op)).reduce((a, x) => a + x.share, 0) : undefined;
    const tr = `${r.transposes.converted} → ${r.transposes.optimized ?? '?'}${r.transposes.reorders ? ` (+${r.transposes.reorders})` : ''}`;
    const others = [r.tfjs.othersCores, r.ort.othersCores].map((x) => (x === undefined ? '?' : x.toFixed(2))).join(' / ');
    if (!s) {
      rows.push(`| ${r.id} | ${shape} | ${r.dynamicBatch ? 'dyn' : 'fixed'} | ${t ? f1(t.latency.tfjs?.medianMs) : 'FAILED'} | ${o ? f1(o.latency['1']?.medianMs) : 'FAILED'} | ${o ? f1(o.latency['2']?.medianMs) : 'FAILED'} | | | | | | | | ${tr} | | | ${others} |`);
      continue;
    }
    rows.push([
      '', r.id, shape, r.dynamicBatch ? 'dyn' : 'fixed', f1(s.tfjsB1Ms), f1(s.ort1B1Ms), f1(s.ort2B1Ms),
      `${f1(s.tfjsBest.imagesPerSecond)} (${s.tfjsBest.batch})`, `${f1(s.oursBest.imagesPerSecond)} (${s.oursBest.batch})`,
      s.poolBest ? `${f1(s.poolBest.imagesPerSecond)} (${s.poolBest.batch})` : '–',
      `**${s.ratio.toFixed(1)}x**`, `${s.latencyRatio.toFixed(1)}x`, s.ratio >= GOAL ? 'yes' : 'no',
      rss(t!, o!), tr, layoutShare === undefined ? '–' : pct(layoutShare), sci(r.compare?.maxRelL2), others, '',
    ].join(' | ').trim());
  }
  return rows.join('\n');
}

function opBreakdown(reports: ModelReport[]): string {
  const rows = ['| model | ORT 2t b1 profiled ms/run | top kernels by time (share, nodes) | nodes conv → opt |', '|---|---:|---|---:|'];
  for (const r of reports) {
    const o = r.ort.result;
    if (!o?.opTimes) continue;
    const top = o.opTimes.slice(0, 6).map((x) => `${x.op} ${pct(x.share)} (${x.nodes})`).join(', ');
    rows.push(`| ${r.id} | ${f1(o.profileRunMs)} | ${top} | ${r.nodes.converted} → ${r.nodes.optimized ?? '?'} |`);
  }
  return rows.length > 2 ? rows.join('\n') : '';
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  let entries = builtinModels.filter((m) => m.source.format !== 'onnx');
  if (opts.models) {
    const unknown = opts.models.filter((id) => !entries.some((m) => m.id === id));
    if (unknown.length) usage(`unknown model(s): ${unknown.join(', ')} (known: ${entries.map((m) => m.id).join(', ')})`);
    entries = entries.filter((m) => opts.models!.includes(m.id));
  }
  const { convert, note: converterNote } = await loadConverter();
  if (converterNote) log(`note: ${converterNote}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-bench-inference-'));
  const reports: ModelReport[] = [];
  const skipped: { id: string; error: string }[] = [];
  let crashed = false;
  const started = performance.now();
  const load0 = os.loadavg();
  try {
    for (const entry of entries) {
      const t0 = performance.now();
      let converted: ConvertedModel;
      try {
        converted = convert(entry);
      } catch (err) {
        const error = String((err as Error)?.message ?? err).split('\n')[0]!.slice(0, 300);
        skipped.push({ id: entry.id, error });
        log(`${entry.id}: skipped, conversion failed: ${error}`);
        continue;
      }
      const convertMs = performance.now() - t0;
      log(`${entry.id}: converted in ${(convertMs / 1000).toFixed(1)} s (${(converted.onnx.length / 1e6).toFixed(1)} MB)`);
      try {
        const r = await benchModel(entry, converted, convertMs, opts, dir);
        if (r.tfjs.error || r.ort.error) crashed = true;
        reports.push(r);
        if (r.summary) log(`${entry.id}: ${r.summary.ratio.toFixed(1)}x TF.js throughput (b1 2t ${f1(r.summary.ort2B1Ms)} ms vs ${f1(r.summary.tfjsB1Ms)} ms)`);
      } catch (err) {
        crashed = true;
        log(`${entry.id}: bench failed: ${String((err as Error)?.stack ?? err).slice(0, 1500)}`);
      }
    }
  } finally {
    if (opts.keep) log(`kept converted and optimized models in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }

  const env = { ...reports.find((r) => r.tfjs.result?.env)?.tfjs.result?.env, ...reports.find((r) => r.ort.result?.env)?.ort.result?.env };
  const lines: string[] = [];
  lines.push(`## Inference: onnxruntime-node vs TF.js wasm (${opts.quick ? 'quick' : 'full'} run)`);
  lines.push('');
  lines.push(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, onnxruntime-node ${env.ort ?? '?'}, TF.js ${env.version ?? '?'} wasm (SIMD ${env.WASM_HAS_SIMD_SUPPORT ?? '?'}, threads ${env.WASM_HAS_MULTITHREAD_SUPPORT ?? '?'}). ` +
    `Median of ${opts.measure.n} after ${opts.measure.warmups} warm-ups, each measurement capped at ${opts.measure.budgetMs / 1000} s (min ${opts.measure.minSamples} runs); batches ${opts.batches.join(',')} for dynamic-batch models; load average ${load0.map((x) => x.toFixed(1)).join(' ')} at start; ${((performance.now() - started) / 1000).toFixed(0)} s in all.`);
  lines.push('Peak RSS: maxRSS of each side\'s own child process (Node + tsx + runtime ≈ base, see --json) after its batch-1 runs, [after the batch sweep] when over 10% higher; the ORT child held the 1- and 2-thread sessions one after the other. "CPU used by others": cores used by other processes during the TF.js / ORT phase (/proc/stat).');
  if (opts.optLevel !== 'all') lines.push(`onnxruntime graphOptimizationLevel: ${opts.optLevel} (InferenceRuntime uses 'all').`);
  if (Object.keys(opts.ortConfig).length) lines.push(`onnxruntime session config: ${Object.entries(opts.ortConfig).map(([k, v]) => `${k}=${v}`).join(', ')}.`);
  if (converterNote) lines.push(`Note: ${converterNote}.`);
  lines.push('');
  lines.push(table(reports, opts));
  const ops = opBreakdown(reports);
  if (ops) lines.push('', 'Where onnxruntime spends its time (profiled separately, kernel time by op type; "layout ops" = Transpose + NCHWc ReorderInput/ReorderOutput):', '', ops);
  const failed = reports.filter((r) => r.tfjs.error || r.ort.error);
  if (failed.length) {
    lines.push('', 'Failed:');
    for (const r of failed) {
      if (r.tfjs.error) lines.push(`- ${r.id} (TF.js): ${r.tfjs.error.split('\n').slice(0, 3).join(' ⏎ ').slice(0, 600)}`);
      if (r.ort.error) lines.push(`- ${r.id} (ORT): ${r.ort.error.split('\n').slice(0, 3).join(' ⏎ ').slice(0, 600)}`);
    }
  }
  if (skipped.length) {
    lines.push('', `Skipped (conversion throws), ${skipped.length}:`);
    for (const s of skipped) lines.push(`- ${s.id}: ${s.error}`);
  }
  const withNotes = reports.filter((r) => r.notes.length);
  if (withNotes.length) {
    lines.push('', 'Notes:');
    for (const r of withNotes) lines.push(`- ${r.id}: ${r.notes.join('; ')}`);
  }
  const below = reports.filter((r) => r.summary && r.summary.ratio < GOAL);
  const measured = reports.filter((r) => r.summary);
  lines.push('', `Goal ≥ ${GOAL}x TF.js-wasm throughput: ${measured.length - below.length} of ${measured.length} measured models meet it${below.length ? ` (below: ${below.map((r) => `${r.id} ${r.summary!.ratio.toFixed(1)}x`).join(', ')})` : ''}; ${skipped.length} not convertible yet.`);
  const text = lines.join('\n') + '\n';

  if (opts.json) {
    process.stderr.write(text);
    const strip = (p: Phase) => (p.result ? { ...p, result: { ...p.result, outputs: p.result.outputs.map((o) => ({ name: o.name, dims: o.dims })) } } : p);
    process.stdout.write(JSON.stringify({ options: opts, env, converterNote, skipped, models: reports.map((r) => ({ ...r, tfjs: strip(r.tfjs), ort: strip(r.ort) })) }, null, 2) + '\n');
  } else {
    process.stdout.write(text);
  }
  return crashed ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err).slice(0, 3000)}\n`);
  process.exitCode = 1;
});
