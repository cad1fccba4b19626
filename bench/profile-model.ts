/**
 * Where a converted model's time goes on onnxruntime: a quick loop for converter work, one model at a time,
 * without the TF.js side of bench/inference.ts.
 *
 *   flock /tmp/imgsense-cpu.lock npx tsx bench/profile-model.ts <id> [<id> ...] [--threads 1,2] [--n 30]
 *        [--top 15] [--keep DIR] [--save FILE] [--compare FILE] [--against DIR] [--against-config key=value ...]
 *        [--ort-config key=value ...] [--opt-level all|extended|basic] [--batch B] [--pipeline]
 *
 * For each model: converts it (convertEntry), loads it with InferenceRuntime's session options, writes
 * onnxruntime's optimized graph and prints its node counts by op type (Reorder*, Transpose, ...), the median and
 * minimum latency at batch B (1) for each thread count, and the slowest nodes of a profiled run.
 * The input is deterministic noise in the model's range (the same bytes every time), so --save writes the outputs
 * and --compare checks a later conversion against them (max relative L2 per output): a fast guard while
 * rewriting the graph. The real proof of exactness stays test/inference/convert-*.test.ts against TF.js.
 * --against DIR times DIR/<id>.onnx (a conversion kept with --keep before a change) in alternation with the new
 * conversion, on the same input, and prints both medians and their ratio. --against-config key=value (repeatable)
 * does the same for session options: the new conversion with the --ort-config entries against it with these.
 * --pipeline times the models run one after another, each in its own session (a faces request runs blazeface,
 * facemesh, then the attribute models so), instead of each model alone.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { convertEntry } from '../src/inference/convert/index.js';
import { builtinModels } from '../src/inference/registry.js';
import { sessionOptions } from '../src/inference/runtime.js';
import { relativeL2 } from '../test/helpers/relative-l2.js';
import { measure, median } from './lib/measure.js';
import { countOps } from './lib/onnx-ops.js';
import { mergeSessionExtra, nestSessionExtra } from './lib/session-extra.js';

interface Options {
  ids: string[]; threads: number[]; n: number; top: number; keep?: string; save?: string; compare?: string; against?: string; againstExtra?: Record<string, string>;
  extra: Record<string, string>; optLevel: 'all' | 'extended' | 'basic'; batch: number; pipeline: boolean;
}

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write('usage: tsx bench/profile-model.ts <id> [...] [--threads 1,2] [--n 30] [--top 15] [--keep DIR] [--save FILE] [--compare FILE] [--against DIR] [--against-config key=value ...] [--ort-config key=value ...] [--opt-level all|extended|basic] [--batch B] [--pipeline]\n');
  process.exit(2);
}

function keyValue(kv: string): Record<string, string> {
  const eq = kv.indexOf('=');
  if (eq <= 0) usage('--ort-config and --against-config need key=value');
  return { [kv.slice(0, eq)]: kv.slice(eq + 1) };
}

function parse(argv: string[]): Options {
  const o: Options = { ids: [], threads: [1, 2], n: 30, top: 15, extra: {}, optLevel: 'all', batch: 1, pipeline: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => argv[++i] ?? usage(`${a} needs a value`);
    switch (a) {
      case '--threads': o.threads = next().split(',').map(Number); break;
      case '--n': o.n = Number(next()); break;
      case '--top': o.top = Number(next()); break;
      case '--batch': o.batch = Number(next()); break;
      case '--keep': o.keep = next(); break;
      case '--pipeline': o.pipeline = true; break;
      case '--save': o.save = next(); break;
      case '--compare': o.compare = next(); break;
      case '--against': o.against = next(); break;
      case '--against-config': o.againstExtra = { ...o.againstExtra, ...keyValue(next()) }; break;
      case '--opt-level': o.optLevel = next() as Options['optLevel']; break;
      case '--ort-config': Object.assign(o.extra, keyValue(next())); break;
      case '--help': case '-h': usage();
      // falls through (usage exits)
      default:
        if (a.startsWith('--')) usage(`unknown argument ${a}`);
        o.ids.push(a);
    }
  }
  if (o.ids.length === 0) usage('name at least one model id');
  return o;
}

/** Deterministic noise (a fixed LCG) in the model's input range, so two conversions see the same input. */
function noise(size: number, [lo, hi]: readonly [number, number]): Float32Array {
  const out = new Float32Array(size);
  let s = 12345;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  }
  return out;
}

/** Node time per node from onnxruntime's chrome-trace profile, averaged over the runs. */
function slowestNodes(prefix: string, runs: number, top: number): string[] {
  const dir = path.dirname(prefix);
  const files = readdirSync(dir).filter((f) => f.startsWith(path.basename(prefix)) && f.endsWith('.json'));
  const events = JSON.parse(readFileSync(path.join(dir, files[0]!), 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  for (const f of files) rmSync(path.join(dir, f), { force: true });
  const byNode = new Map<string, { op: string; us: number }>();
  const byOp = new Map<string, number>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    const n = byNode.get(e.name) ?? { op, us: 0 };
    n.us += e.dur;
    byNode.set(e.name, n);
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    total += e.dur;
  }
  const ms = (us: number) => (us / runs / 1000).toFixed(2);
  const lines = [`  kernel time ${ms(total)} ms per run; by op: ${[...byOp].sort((a, b) => b[1] - a[1]).map(([op, us]) => `${op} ${ms(us)}`).join(', ')}`];
  for (const [name, n] of [...byNode].sort((a, b) => b[1].us - a[1].us).slice(0, top)) {
    lines.push(`    ${ms(n.us).padStart(7)} ms ${(100 * n.us / total).toFixed(1).padStart(5)}%  ${n.op.padEnd(22)} ${name.replace(/_kernel_time$/, '')}`);
  }
  return lines;
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  if (o.keep) mkdirSync(o.keep, { recursive: true });
  const dir = o.keep ?? mkdtempSync(path.join(os.tmpdir(), 'imgsense-profile-'));
  const saved: Record<string, Record<string, number[]>> = o.compare ? JSON.parse(readFileSync(o.compare, 'utf8')) : {};
  const toSave: Record<string, Record<string, number[]>> = {};
  // InferenceRuntime's session options, with the thread count varied and the --ort-config entries on top.
  const options = (threads: number, extra = o.extra): ort.InferenceSession.SessionOptions => {
    const base = sessionOptions(threads);
    const merged = mergeSessionExtra(base.extra as Record<string, unknown> | undefined, nestSessionExtra(extra));
    return { ...base, graphOptimizationLevel: o.optLevel, ...(merged && { extra: merged }) };
  };
  const stages: Stage[] = [];
  for (const id of o.ids) {
    const entry = builtinModels.find((m) => m.id === id) ?? usage(`unknown model ${id}`);
    const t0 = performance.now();
    const converted = convertEntry(entry);
    const convertMs = performance.now() - t0;
    const file = path.join(dir, `${id}.onnx`);
    writeFileSync(file, converted.onnx);
    const spec = entry.input;
    const [h, w] = spec.size ?? [128, 128];
    const dims = spec.layout === 'nhwc' ? [o.batch, h, w, spec.channels] : [o.batch, spec.channels, h, w];
    const feeds = { [converted.inputs[0]!.name]: new ort.Tensor('float32', noise(dims.reduce((a, b) => a * b, 1), spec.range), dims) };
    console.log(`${id}: converted in ${convertMs.toFixed(0)} ms, ${converted.nodes} nodes, ${(converted.onnx.length / 1e6).toFixed(1)} MB; input ${dims.join('x')}`);
    stages.push([file, feeds]);
    if (o.pipeline) continue;

    const optimized = path.join(dir, `${id}.optimized.onnx`);
    const prefix = path.join(dir, `${id}.profile`);
    const probe = await ort.InferenceSession.create(file, { ...options(Math.max(...o.threads)), optimizedModelFilePath: optimized, enableProfiling: true, profileFilePrefix: prefix });
    const out = await probe.run(feeds);
    const profiled = 10;
    for (let i = 0; i < profiled; i++) await probe.run(feeds);
    probe.endProfiling();
    await probe.release();
    const counts = [...countOps(readFileSync(optimized))].sort((a, b) => b[1] - a[1]);
    console.log(`  optimized: ${counts.reduce((n, [, c]) => n + c, 0)} nodes: ${counts.map(([op, c]) => `${op.replace(/^com\.microsoft\.nchwc:/, 'nchwc:').replace(/^com\.microsoft:/, 'ms:')} ${c}`).join(', ')}`);

    const outputs: Record<string, number[]> = {};
    for (const [name, t] of Object.entries(out)) outputs[name] = Array.from(t.data as Float32Array);
    toSave[id] = outputs;
    if (saved[id]) {
      const errs = Object.entries(saved[id]).map(([name, ref]) => {
        const mine = outputs[name];
        return `${name} ${mine && mine.length === ref.length ? relativeL2(Float32Array.from(mine), Float32Array.from(ref)).toExponential(1) : 'MISSING/shape'}`;
      });
      console.log(`  vs ${o.compare}: rel L2 ${errs.join(', ')}`);
    }

    const baseline = o.against && existsSync(path.join(o.against, `${id}.onnx`)) ? path.join(o.against, `${id}.onnx`) : undefined;
    for (const threads of o.threads) {
      const label = `${threads} thread${threads > 1 ? 's' : ''}`;
      if (baseline || o.againstExtra) {
        const other = baseline ?? file;
        const { ours, theirs } = await interleaved([file, options(threads)], [other, options(threads, o.againstExtra ?? o.extra)], feeds, o.n);
        const what = o.againstExtra ? `${other} with ${JSON.stringify(o.againstExtra)}` : other;
        console.log(`  ${label}: median ${ours.median.toFixed(2)} ms (min ${ours.min.toFixed(2)}) against ${theirs.median.toFixed(2)} ms (min ${theirs.min.toFixed(2)}) for ${what}: x${(theirs.median / ours.median).toFixed(2)}`);
        continue;
      }
      const session = await ort.InferenceSession.create(file, options(threads));
      const t = await measure(() => session.run(feeds), { n: o.n, warmups: 3, budgetMs: 8000, minSamples: 5 });
      await session.release();
      console.log(`  ${label}: median ${t.medianMs.toFixed(2)} ms, min ${t.minMs.toFixed(2)} ms (${t.samples} runs)`);
    }
    for (const line of slowestNodes(prefix, profiled, o.top)) console.log(line);
  }
  if (o.pipeline) {
    for (const threads of o.threads) {
      const { ours, theirs } = await pipeline(stages, options(threads), options(threads, o.againstExtra ?? o.extra), o.n);
      console.log(`pipeline ${o.ids.join(' -> ')}, ${threads} thread${threads > 1 ? 's' : ''}: median ${ours.median.toFixed(2)} ms (min ${ours.min.toFixed(2)})${o.againstExtra ? ` against ${theirs.median.toFixed(2)} ms (min ${theirs.min.toFixed(2)}) with ${JSON.stringify(o.againstExtra)}: x${(theirs.median / ours.median).toFixed(2)}` : ''}`);
    }
  }
  if (o.save) writeFileSync(o.save, JSON.stringify(toSave));
  if (!o.keep) rmSync(dir, { recursive: true, force: true });
}

/**
 * The model and a baseline, run alternately so that both see the same load: on a shared machine two timings
 * taken a minute apart differ more than most rewrites do. They alternate in blocks of 5 runs and the first run of
 * each block is not counted: onnxruntime's idle pool threads spin for a while after a run, and would slow the
 * other session's next run down.
 */
type Variant = [file: string, options: ort.InferenceSession.SessionOptions];
async function interleaved(ours: Variant, theirs: Variant, feeds: Record<string, ort.Tensor>, n: number) {
  const sessions = [await ort.InferenceSession.create(...ours), await ort.InferenceSession.create(...theirs)];
  const times: [number[], number[]] = [[], []];
  const block = 5;
  for (let i = 0; times[1].length < n; i++) {
    for (const [k, s] of sessions.entries()) {
      for (let j = 0; j < block; j++) {
        const t = performance.now();
        await s.run(feeds);
        if (i > 0 && j > 0) times[k]!.push(performance.now() - t);
      }
    }
  }
  for (const s of sessions) await s.release();
  const stats = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs) });
  return { ours: stats(times[0]), theirs: stats(times[1]) };
}

type Stage = [file: string, feeds: Record<string, ort.Tensor>];

/**
 * The models run one after another, each in its own session, as a request through the faces path does: what
 * one session's idle threads (spinning after their run) cost the next. Two sets of sessions with the two option
 * sets alternate in blocks, as in interleaved().
 */
async function pipeline(stages: Stage[], ours: ort.InferenceSession.SessionOptions, theirs: ort.InferenceSession.SessionOptions, n: number) {
  const sets = [] as ort.InferenceSession[][];
  for (const opts of [ours, theirs]) sets.push(await Promise.all(stages.map(([file]) => ort.InferenceSession.create(file, opts))));
  const times: [number[], number[]] = [[], []];
  for (let i = 0; times[1].length < n; i++) {
    for (const [k, sessions] of sets.entries()) {
      for (let j = 0; j < 5; j++) {
        const t = performance.now();
        for (const [si, s] of sessions.entries()) await s.run(stages[si]![1]);
        if (i > 0 && j > 0) times[k]!.push(performance.now() - t);
      }
    }
  }
  for (const s of sets.flat()) await s.release();
  const stats = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs) });
  return { ours: stats(times[0]), theirs: stats(times[1]) };
}

await main();
