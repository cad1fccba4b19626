/**
 * Super-resolution speed: seconds per megapixel of output for each ESRGAN model and scale, our path (the
 * converted model on onnxruntime-node) against the same model on TF.js with the wasm backend (the UpscalerJS
 * way), in one run, with the ratio and each side's peak RSS.
 *
 *   npm run bench:upscale -- [--models slim,medium,thick] [--scales 2,3,4] [--size 128] [--tile 128]
 *        [--threads 2] [--runs 3] [--no-tfjs] [--default-check] [--full] [--json]
 *
 * - Default (quick, about a minute): slim and medium, x2 and x4, a 128x128 crop of objects/dog.jpg.
 *   --full: every model and scale on a 256x256 crop (thick on TF.js wasm takes minutes).
 * - Both sides run the same tiled code (src/services/upscale.ts upscaleRgb: --tile px tiles, blended) in a
 *   child process each (bench/lib/upscale-worker.ts), after one warm-up tile; the median of --runs timed runs
 *   (3; --full: 1); --default-check too (pass --runs 1 for thick, ~100 s a run). The 1-minute load average is
 *   printed with each row: this machine has 2 cores shared with other work, and a load above 2 means the row is
 *   slow for reasons not its own.
 * - --default-check: x2 of a 1-megapixel photo (1000x1000) on our path with --threads threads, for the models
 *   given, through the same tiling: the rule for the default model is "the best whose x2 of a 1 MP photo finishes
 *   within 10 s on 2 cores". Decoding and encoding (sharp) add well under a second at this size. CPU seconds
 *   are printed next to wall seconds: on a machine busy with other work, CPU time / threads estimates the wall
 *   time on an idle one (onnxruntime scales ~1.9x from 1 to 2 threads on these models).
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UpscaleJob, UpscaleSide } from './lib/upscale-worker.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const photo = path.resolve(root, '../shared/fixtures/objects/dog.jpg');

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const has = (name: string) => process.argv.includes(`--${name}`);

const full = has('full');
const models = (flag('models') ?? (full ? 'slim,medium,thick' : 'slim,medium')).split(',') as UpscaleJob['model'][];
const scales = (flag('scales') ?? (full ? '2,3,4' : '2,4')).split(',').map(Number) as UpscaleJob['scale'][];
const size = Number(flag('size') ?? (full ? 256 : 128));
const tile = Number(flag('tile') ?? 128);
const threads = Number(flag('threads') ?? 2);
const runs = Number(flag('runs') ?? (full ? 1 : 3));
const dataDir = path.resolve(root, '.tmp/bench-upscale');

function runSide(job: UpscaleJob): Promise<UpscaleSide | { error: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(here, 'lib/upscale-worker.ts'), JSON.stringify(job)], { cwd: root, maxBuffer: 1 << 24, timeout: 30 * 60_000 }, (err, stdout, stderr) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (err || !last.startsWith('{')) resolve({ error: (stderr || String(err)).trim().split('\n').slice(-3).join(' ').slice(0, 300) });
      else resolve(JSON.parse(last) as UpscaleSide);
    });
  });
}

const fmt = (v: number | undefined, d = 2) => (v === undefined ? '—' : v.toFixed(d));
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Row { model: string; scale: number; ort: UpscaleSide | { error: string }; tfjs?: UpscaleSide | { error: string }; load: number }

async function main(): Promise<void> {
  const rows: Row[] = [];
  const out: string[] = [];
  if (has('default-check')) {
    out.push(`x2 of a 1000x1000 photo (1 MP in, 4 MP out), onnxruntime ${threads} threads, ${tile}px tiles:`, '', '| model | wall s | CPU s | CPU s / threads (idle estimate) | within 10 s | peak RSS MB | load |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const model of models) {
      log(`default-check ${model} x2 ...`);
      const r = await runSide({ side: 'ort', model, scale: 2, photo, width: 1000, height: 1000, tile, threads, dataDir, runs });
      out.push('error' in r ? `| ${model} | failed: ${r.error} | | | | | |` : `| ${model} | ${fmt(r.seconds, 1)} | ${fmt(r.cpuSeconds, 1)} | ${fmt(r.cpuSeconds / threads, 1)} | ${Math.min(r.seconds, r.cpuSeconds / threads) <= 10 ? 'yes' : 'no'} | ${fmt(r.peakRssMB, 0)} | ${os.loadavg()[0]!.toFixed(1)} |`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
    return;
  }
  for (const model of models) {
    for (const scale of scales) {
      const job: UpscaleJob = { side: 'ort', model, scale, photo, width: size, height: size, tile, threads, dataDir, runs };
      log(`${model} x${scale}: onnxruntime ...`);
      const row: Row = { model, scale, ort: await runSide(job), load: 0 };
      if (!has('no-tfjs')) {
        log(`${model} x${scale}: TF.js wasm ...`);
        row.tfjs = await runSide({ ...job, side: 'tfjs' });
      }
      row.load = os.loadavg()[0]!;
      rows.push(row);
    }
  }
  if (has('json')) {
    process.stdout.write(`${JSON.stringify({ size, tile, threads, rows }, null, 2)}\n`);
    return;
  }
  out.push(
    `${size}x${size} crop of objects/dog.jpg, ${tile}px tiles, onnxruntime ${threads} intra-op threads; TF.js ${'wasm (SIMD, 1 thread in Node)'}; one timed run each`,
    '',
    '| model | scale | out MP | ORT s/MP out | TF.js wasm s/MP out | ratio | ORT CPU s/MP | TF.js CPU s/MP | CPU ratio | ORT peak RSS MB | TF.js peak RSS MB | load |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const r of rows) {
    const o = 'error' in r.ort ? undefined : r.ort;
    const t = !r.tfjs || 'error' in r.tfjs ? undefined : r.tfjs;
    const ratio = o && t ? `${(t.secondsPerOutputMP / o.secondsPerOutputMP).toFixed(1)}x` : '—';
    const oc = o && o.cpuSeconds / o.outputMegapixels;
    const tc = t && t.cpuSeconds / t.outputMegapixels;
    const cpuRatio = oc && tc ? `${(tc / oc).toFixed(1)}x` : '—';
    out.push(`| ${r.model} | x${r.scale} | ${fmt(o?.outputMegapixels ?? t?.outputMegapixels, 3)} | ${fmt(o?.secondsPerOutputMP)} | ${fmt(t?.secondsPerOutputMP)} | ${ratio} | ${fmt(oc)} | ${fmt(tc)} | ${cpuRatio} | ${fmt(o?.peakRssMB, 0)} | ${fmt(t?.peakRssMB, 0)} | ${r.load.toFixed(1)} |`);
    if ('error' in r.ort) out.push(`  ORT failed: ${r.ort.error}`);
    if (r.tfjs && 'error' in r.tfjs) out.push(`  TF.js failed: ${r.tfjs.error}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
