/**
 * Recognition throughput: the HTTP API against the reference library on the same images, in the same run.
 *
 *   npm run bench:recognition -- [--seconds S] [--clients 1,4,16] [--cases text] [--rounds N] [--env KEY=VALUE ...] [--json]
 *
 * - The API: `node dist/main.js serve` (what `npm start` runs, built first) on a free loopback port, the cases'
 *   models warmed before it reports ready; C concurrent clients (node:http keep-alive, each image's multipart body
 *   encoded once: bench/lib/http-client.ts) send the case's images round-robin for S seconds
 *   (default 8) after one warm-up pass, for each C of --clients. images/s = answers / wall time; p50/p99 are
 *   per-request latencies seen by the client (which shares the cores with the server). CPU ms/img is the server's
 *   CPU time (all threads) per answer: images/s x CPU ms/img short of the cores' 1000 ms/s is time they sat idle.
 * - The reference: @vladmandic/human on TF.js wasm with caching off and exactly the same models enabled
 *   (RecognitionCase.humanConfig), in 1 process and in one process per core (TF.js wasm is single-threaded in
 *   Node, so extra clients only queue), each decoding with sharp and calling human.detect in a loop for S seconds.
 *   Cases without a humanConfig (Human has no nsfw model) are measured on the API alone.
 * - ratio = the API's best images/s over the reference's best images/s.
 * - --rounds N (default 1): each case's API phases and reference phases alternate N times, and every phase keeps
 *   its best round: on this shared host both sides drifted by a third between runs minutes apart, so a single
 *   API-then-reference pass can favour either side.
 * - The ceiling: what the ratio could be if the API spent nothing but its model runs and the JPEG decode that both
 *   sides pay: reference CPU ms/img over (models ms/img + decode ms/img). "models ms/img" is the server's
 *   imgsense_model_cpu_seconds_total (the runs' CPU on their worker threads) per answer, taken from the 1-client
 *   phase (the least contended: runs cost more CPU when cores are shared, caches being cold); "decode" is the
 *   cheaper of the reference's sharp decode of the case's images and the server's own (sharedDecodeMs), timed in
 *   this process (CPU, all threads). A case whose ceiling is under a goal cannot meet it by trimming the rest of
 *   the request; only faster models could. bench/request-stages.ts times the request's other steps.
 * --env sets the server's environment (e.g. IMGSENSE_INFERENCE_THREADS=1). Cases come from
 * bench/lib/recognition-cases/*.ts. The machine may be shared: the load average is printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecognitionCase } from './lib/recognition-cases/types.js';
import { cases as visionCases } from './lib/recognition-cases/vision.js';
import { cases as faceCases } from './lib/recognition-cases/faces.js';
import sharp from 'sharp';
import { loadConfig } from '../src/config/env.js';
import { decodeForModels } from '../src/imaging/decoded.js';
import { probeImage } from '../src/imaging/probe.js';
import { detectorIds } from '../src/inference/models/object-detector.js';
import { buildServer, encodeForm, keepAliveClient } from './lib/http-client.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixturesDir = path.resolve(root, '../shared/fixtures');
const cores = os.availableParallelism();
const limits = loadConfig({}).limits;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const seconds = Number(option('seconds', '8'));
const clients = option('clients', '1,4,16').split(',').map(Number);
const filter = option('cases', '');
const json = process.argv.includes('--json');
const rounds = Math.max(1, Math.round(Number(option('rounds', '1'))) || 1);
const serverEnv = Object.fromEntries(process.argv.flatMap((a, i) => (process.argv[i - 1] === '--env' && a.includes('=') ? [[a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]] : [])));
const all: RecognitionCase[] = [...visionCases, ...faceCases];
const selected = all.filter((c) => !filter || c.name.includes(filter));

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startServer(models: string[]): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, buildServer(root), {
    cwd: root,
    // Authentication is measured on its own (bench/auth.ts).
    env: { ...process.env, IMGSENSE_AUTH: 'off', PORT: String(port), LOG_LEVEL: 'warn', IMGSENSE_DATA_DIR: process.env.IMGSENSE_DATA_DIR ?? '.tmp/test-data', IMGSENSE_WARM_MODELS: models.join(','), ...serverEnv },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 1200; i++) {
    const ok = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) return { url, child };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error('server did not become ready');
}

/**
 * cpuMs: CPU time per image (user + system, every thread of the server, or of the reference processes). Unlike
 * images/s it does not move with idle cores, so it tells a slower pipeline from one that leaves cores unused.
 */
interface Phase { imagesPerSecond: number; p50: number; p99: number; failures: number; cpuMs: number; modelMs?: number }

/** CPU seconds the server's model runs have taken so far, all models together (imgsense_model_cpu_seconds_total). */
async function modelSeconds(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^imgsense_model_cpu_seconds_total\{[^}]*\} (\S+)/gm)].reduce((t, m) => t + Number(m[1]), 0);
}

/** CPU ms per image of `decode` over the files (5 rounds after one warm-up; this process, all threads). */
async function decodeMs(files: string[], decode: (b: Buffer) => Promise<unknown>): Promise<number> {
  const bytes = files.map((p) => readFileSync(path.join(fixturesDir, p)));
  for (const b of bytes) await decode(b);
  const rounds = 5;
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) for (const b of bytes) await decode(b);
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000 / (rounds * bytes.length);
}

/**
 * The decode both sides must pay, per image: the cheaper of the reference's (bench/lib/human-worker.ts via
 * test/helpers/human-reference.ts) and the server's (decodeForModels, which may skip an sRGB profile's colour
 * management or decode a JPEG at a DCT scale), so that the ceiling is never understated.
 */
async function sharedDecodeMs(c: RecognitionCase): Promise<number> {
  const reference = await decodeMs(c.images, (b) => sharp(b).autoOrient().removeAlpha().toColourspace('srgb').raw().toBuffer());
  if (!c.decode) return reference;
  const { maxSide, minSide } = c.decode;
  const ours = await decodeMs(c.images, async (b) => decodeForModels(await probeImage(b, limits), maxSide, minSide));
  return Math.min(reference, ours);
}

/** A process's CPU time so far, in ms (all threads; Linux /proc, NaN elsewhere). */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

async function runApi(url: string, pid: number, c: RecognitionCase, concurrency: number): Promise<Phase> {
  const fields = Object.fromEntries(Object.entries(c.fields).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  const images = await Promise.all(c.images.map((p) => encodeForm({ image: new File([readFileSync(path.join(fixturesDir, p))], 'image'), ...fields })));
  const client = keepAliveClient(concurrency);
  const send = async (i: number) => (await client.post(`${url}${c.path}`, images[i % images.length]!)).status === 200;
  for (let i = 0; i < images.length; i++) await send(i); // warm-up pass
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const cpu0 = processCpuMs(pid);
  const model0 = await modelSeconds(url);
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      if (!(await send(next++))) failures++;
      latencies.push(performance.now() - t);
    }
  }));
  const wall = performance.now() - start;
  const cpuMs = (processCpuMs(pid) - cpu0) / latencies.length;
  const modelMs = ((await modelSeconds(url)) - model0) * 1000 / latencies.length;
  client.close();
  latencies.sort((a, b) => a - b);
  return { imagesPerSecond: (latencies.length * 1000) / wall, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), failures, cpuMs, modelMs };
}

async function runReference(c: RecognitionCase, processes: number): Promise<Phase> {
  const arg = JSON.stringify({ config: c.humanConfig, images: c.images.map((p) => path.join(fixturesDir, p)), seconds });
  const workers = Array.from({ length: processes }, () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/human-worker.ts', arg], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    const ready = new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d) => { if (String(d).includes('ready')) resolve(); });
      child.once('exit', (code) => reject(new Error(`reference worker exited ${code}`)));
    });
    const done = new Promise<{ count: number; latencies: number[]; cpuMs: number }>((resolve, reject) => {
      child.once('exit', () => { try { resolve(JSON.parse(out)); } catch (err) { reject(err); } });
    });
    return { child, ready, done };
  });
  await Promise.all(workers.map((w) => w.ready));
  const start = performance.now();
  for (const w of workers) w.child.stdin!.write('go\n');
  const results = await Promise.all(workers.map((w) => w.done));
  const wall = performance.now() - start;
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const cpuMs = results.reduce((t, r) => t + r.cpuMs, 0) / latencies.length;
  return { imagesPerSecond: (latencies.length * 1000) / wall, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), failures: 0, cpuMs };
}

/** The models a case needs, warmed before the server reports ready (other cases' models are warmed too). */
const modelsOf = (c: RecognitionCase): string[] => {
  if (c.path === '/v1/vision/objects') return [String(c.fields.model ?? detectorIds[0])];
  if (c.path.startsWith('/v1/vision/')) return [detectorIds[0], 'nsfw-mobilenet-v2'];
  if (c.path === '/v1/faces/detect') return ['blazeface', 'facemesh', ...(c.fields.attributes ? ['faceres', 'emotion', 'antispoof', 'liveness'] : [])];
  return [];
};

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '—');
const f0 = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '—');

console.log(`bench:recognition on ${cores} cores, ${seconds} s per phase, best of ${rounds} round(s)${Object.keys(serverEnv).length ? `, server env ${JSON.stringify(serverEnv)}` : ''}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (the machine may be shared)\n`);
const { url, child } = await startServer([...new Set(selected.flatMap(modelsOf))]);
const report: Record<string, unknown>[] = [];
try {
  const rows: string[] = ['| case | clients | API img/s | p50 ms | p99 ms | CPU ms/img | models ms/img | reference img/s (processes) | ref p50 ms | ref CPU ms/img | ratio |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const c of selected) {
    const api = new Map<number, Phase>();
    const refs = new Map<number, Phase>();
    const keep = (m: Map<number, Phase>, k: number, p: Phase) => { if (!m.has(k) || p.imagesPerSecond > m.get(k)!.imagesPerSecond) m.set(k, p); };
    for (let round = 0; round < rounds; round++) {
      for (const n of clients) keep(api, n, await runApi(url, child.pid!, c, n));
      if (Object.keys(c.humanConfig).length > 0) for (const p of [...new Set([1, cores])]) keep(refs, p, await runReference(c, p));
    }
    const decode = await sharedDecodeMs(c);
    const bestApi = Math.max(...[...api.values()].map((p) => p.imagesPerSecond));
    const bestRef = refs.size ? Math.max(...[...refs.values()].map((p) => p.imagesPerSecond)) : NaN;
    for (const n of clients) {
      const a = api.get(n)!;
      // clients 1 is compared with one reference process; more clients with one process per core
      const r = refs.get(n === 1 ? 1 : cores);
      rows.push(`| ${c.name} | ${n} | ${f1(a.imagesPerSecond)}${a.failures ? ` (${a.failures} failed)` : ''} | ${f0(a.p50)} | ${f0(a.p99)} | ${f1(a.cpuMs)} | ${f1(a.modelMs ?? NaN)} | ${r ? `${f1(r.imagesPerSecond)} (${n === 1 ? 1 : cores})` : 'n/a'} | ${r ? f0(r.p50) : '—'} | ${r ? f1(r.cpuMs) : '—'} | ${r ? `${(a.imagesPerSecond / r.imagesPerSecond).toFixed(1)}x` : '—'} |`);
    }
    // The floor of an API request: its models (least contended: the 1-client phase) and the decode both sides pay.
    const floorApi = (api.get(Math.min(...clients))?.modelMs ?? NaN) + decode;
    // The reference phase the ratio is taken against (its best images/s), and what each of its images cost.
    const refCpu = [...refs.values()].reduce((b: Phase | undefined, p) => (!b || p.imagesPerSecond > b.imagesPerSecond ? p : b), undefined)?.cpuMs ?? NaN;
    const ceiling = refCpu / floorApi;
    if (refs.size) rows.push(`| ${c.name}: best vs best (ceiling: ref CPU ${f1(refCpu)} / (models ${f1(floorApi - decode)} + decode ${f1(decode)}) ms = ${ceiling.toFixed(1)}x) | | ${f1(bestApi)} | | | | | ${f1(bestRef)} | | | **${(bestApi / bestRef).toFixed(1)}x** |`);
    report.push({ case: c.name, api: Object.fromEntries(api), reference: Object.fromEntries(refs), decodeMs: decode, ceiling });
  }
  console.log(json ? JSON.stringify(report, null, 2) : rows.join('\n'));
} finally {
  child.kill('SIGTERM');
}
