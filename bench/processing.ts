/**
 * Processing throughput: sharp called directly vs the same work through the real HTTP API.
 *
 *   npm run bench:processing -- [--quick] [--env KEY=VALUE ...] [--passes N] [--max-seconds S]
 *                                [--clients 4,8] [--raw-parallel 2,4] [--json]
 *
 * Workload: the JPEG photos of 1-12 megapixels listed in ../shared/fixtures/manifest.json (PNG/WebP photos of that
 * size are added only when there are fewer than four JPEGs), each resized to fit 512x512 and encoded as JPEG q80.
 *
 * 1. raw sharp, in a child process that gets the same --env as the server (UV_THREADPOOL_SIZE is read by Node at
 *    start and IMGSENSE_SHARP_CONCURRENCY is applied as sharp.concurrency, as src/imaging/configure.ts does), with
 *    N promises in flight for each N of --raw-parallel; the best N is the reference. One more row runs the options
 *    the API's pipeline actually uses (metadata probe, failOn, autoOrient, keepMetadata) at that best N.
 * 2. the server, `node --import tsx src/main.ts serve` on a free loopback port, driven by C concurrent clients
 *    (fetch + FormData) for each C of --clients.
 *
 * Every phase runs a fixed number of passes over the set after a warm-up, cut short at --max-seconds. The exit code
 * is 0 unless a request failed (non-200 or a body that is not a JPEG) or the server did not start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const fixturesDir = path.resolve(root, '../shared/fixtures');

const OPERATIONS = JSON.stringify([{ op: 'resize', width: 512, height: 512, fit: 'inside' }]);
const OUTPUT = JSON.stringify({ format: 'jpeg', quality: 80 });
const MIN_PIXELS = 0.95e6;
const MAX_PIXELS = 12.5e6;
const MIN_JPEGS = 4;

// ---------------------------------------------------------------------------------------------------------------
// Options

interface Options {
  quick: boolean;
  env: Record<string, string>;
  passes: number;
  maxSeconds: number;
  clients: number[];
  rawParallel: number[];
  json: boolean;
}

function numberList(flag: string, text: string | undefined): number[] {
  const list = (text ?? '').split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`Expected a comma-separated list of positive integers for ${flag} but received ${JSON.stringify(text)}`);
  }
  return list;
}

function positive(flag: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`Expected a positive number for ${flag} but received ${JSON.stringify(text)}`);
  return n;
}

function parseArgs(argv: string[]): Options {
  const cores = os.availableParallelism();
  const o: Options = {
    quick: false, env: {}, passes: 0, maxSeconds: 0, clients: [4, 8], rawParallel: [cores, cores * 2], json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--quick': o.quick = true; break;
      case '--json': o.json = true; break;
      case '--env': {
        const kv = value() ?? '';
        const eq = kv.indexOf('=');
        if (eq < 1) throw new Error(`Expected KEY=VALUE after --env but received ${JSON.stringify(kv)}`);
        o.env[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
      case '--passes': o.passes = Math.round(positive(flag, value())); break;
      case '--max-seconds': o.maxSeconds = positive(flag, value()); break;
      case '--clients': o.clients = numberList(flag, value()); break;
      case '--raw-parallel': o.rawParallel = numberList(flag, value()); break;
      case '--help': case '-h':
        process.stdout.write('Usage: npm run bench:processing -- [--quick] [--env KEY=VALUE ...] [--passes N] '
          + '[--max-seconds S] [--clients 4,8] [--raw-parallel 2,4] [--json]\n');
        process.exit(0);
        break;
      default:
        throw new Error(`Unknown option ${JSON.stringify(arg)} (try --help)`);
    }
  }
  if (o.passes === 0) o.passes = o.quick ? 4 : 60;
  if (o.maxSeconds === 0) o.maxSeconds = o.quick ? 1.5 : 30;
  o.rawParallel = [...new Set(o.rawParallel)];
  return o;
}

// ---------------------------------------------------------------------------------------------------------------
// Workload

interface ManifestFile {
  path: string; format: string; width: number; height: number; frames?: number; expect: string; bytes: number; note?: string;
  faces?: number; objects?: unknown; embedded_metadata?: string[];
}

interface Photo { path: string; format: string; width: number; height: number; bytes: number }

/** Photos, not test patterns: JPEGs, then PNG/WebP only when there are too few, and only photographic ones. */
function pickPhotos(): Photo[] {
  const manifest = JSON.parse(readFileSync(path.join(fixturesDir, 'manifest.json'), 'utf8')) as { files: ManifestFile[] };
  const inRange = (f: ManifestFile) => f.expect === 'ok' && (f.frames ?? 1) === 1
    && f.width * f.height >= MIN_PIXELS && f.width * f.height <= MAX_PIXELS;
  const photo = (f: ManifestFile) => /photo/i.test(f.note ?? '') || f.faces !== undefined || f.objects !== undefined;
  const jpegs = manifest.files.filter((f) => inRange(f) && f.format === 'jpeg');
  let chosen = jpegs;
  if (jpegs.length < MIN_JPEGS) {
    chosen = [...jpegs, ...manifest.files.filter((f) => inRange(f) && (f.format === 'png' || f.format === 'webp') && photo(f))];
  }
  if (chosen.length === 0) throw new Error(`no photos of 1-12 megapixels in ${fixturesDir}/manifest.json`);
  return chosen.map(({ path: p, format, width, height, bytes }) => ({ path: p, format, width, height, bytes }));
}

// ---------------------------------------------------------------------------------------------------------------
// Phases

interface PhaseResult {
  name: string;
  parallel: number;
  images: number;
  megapixels: number;
  wallMs: number;
  latenciesMs: number[];
  /** CPU time of the process doing the image work (raw child, or server) per image. */
  cpuMsPerImage?: number;
  /** CPU time of the load-generating bench process per image (API phases only). */
  clientCpuMsPerImage?: number;
  failures: number;
}

/**
 * Runs `total` items with `parallel` in flight, stopping early (no new items) after `capMs`.
 * Item i uses photo i % photos.length, so every pass covers the whole set in the same order.
 */
async function runPhase(
  name: string, total: number, parallel: number, capMs: number, photos: readonly Photo[],
  work: (index: number) => Promise<boolean>,
): Promise<PhaseResult> {
  let next = 0;
  let images = 0;
  let megapixels = 0;
  let failures = 0;
  const latenciesMs: number[] = [];
  const start = performance.now();
  const worker = async () => {
    while (next < total && performance.now() - start < capMs) {
      const i = next++;
      const t0 = performance.now();
      const ok = await work(i);
      latenciesMs.push(performance.now() - t0);
      if (!ok) { failures++; continue; }
      const p = photos[i % photos.length]!;
      images++;
      megapixels += (p.width * p.height) / 1e6;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { name, parallel, images, megapixels, wallMs: performance.now() - start, latenciesMs, failures };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

// ---------------------------------------------------------------------------------------------------------------
// Raw sharp, in a child process with the server's environment

interface RawReport { sharpConcurrency: number; uvThreadpool: string; phases: PhaseResult[]; best: number; maxRssMb: number }

async function rawChild(config: { photos: Photo[]; passes: number; capMs: number; parallel: number[] }): Promise<RawReport> {
  const { default: sharp } = await import('sharp');
  // What src/imaging/configure.ts does with the same variable.
  const threads = Number(process.env.IMGSENSE_SHARP_CONCURRENCY ?? '0') || 0;
  if (threads > 0) sharp.concurrency(threads);
  sharp.cache(false);

  const { photos } = config;
  const buffers = photos.map((p) => readFileSync(path.join(fixturesDir, p.path)));
  const spec = (i: number) => buffers[i % buffers.length]!;
  const plain = async (i: number) => {
    await sharp(spec(i)).resize(512, 512, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 80 }).toBuffer();
    return true;
  };
  // The options src/imaging (probe.ts, source.ts, steps/resize.ts, pipeline.ts, encode.ts) passes for this request.
  const apiLike = async (i: number) => {
    const bytes = spec(i);
    const m = await sharp(bytes, { limitInputPixels: false }).metadata();
    await sharp(bytes, { failOn: 'warning', limitInputPixels: m.width * m.height + 1, autoOrient: true })
      .resize({ width: 512, height: 512, fit: 'inside', withoutEnlargement: true, kernel: 'lanczos3', position: 'centre', background: '#00000000' })
      .keepMetadata()
      .jpeg({ quality: 80, progressive: false })
      .toBuffer();
    return true;
  };
  const total = config.passes * photos.length;
  const measured = async (name: string, parallel: number, fn: (i: number) => Promise<boolean>) => {
    const cpu0 = process.cpuUsage();
    const r = await runPhase(name, total, parallel, config.capMs, photos, fn);
    const cpu = process.cpuUsage(cpu0);
    r.cpuMsPerImage = (cpu.user + cpu.system) / 1000 / Math.max(1, r.images);
    return r;
  };

  const maxParallel = Math.max(...config.parallel);
  await runPhase('warm-up', photos.length * 2, maxParallel, config.capMs, photos, plain);
  await runPhase('warm-up', photos.length * 2, maxParallel, config.capMs, photos, apiLike);
  const phases: PhaseResult[] = [];
  for (const n of config.parallel) phases.push(await measured('raw sharp', n, plain));
  let best = 0;
  phases.forEach((p, i) => { if (p.images / p.wallMs > phases[best]!.images / phases[best]!.wallMs) best = i; });
  phases.push(await measured("raw, API's options", phases[best]!.parallel, apiLike));
  return {
    sharpConcurrency: sharp.concurrency(),
    uvThreadpool: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
    phases,
    best,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

function runRawInChild(env: NodeJS.ProcessEnv, config: Parameters<typeof rawChild>[0]): Promise<RawReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--raw-child'], {
      cwd: root, env, stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stdin.end(JSON.stringify(config));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`raw sharp child exited with ${code}`));
      try {
        resolve(JSON.parse(out.slice(out.lastIndexOf('\n{') + 1)) as RawReport);
      } catch (err) {
        reject(new Error(`raw sharp child printed no report: ${out.slice(-500)}`, { cause: err }));
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The server

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function procStatus(pid: number, field: string): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** utime + stime of a process in ms, from /proc/<pid>/stat (clock ticks of 10 ms on Linux). */
function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // fields 14 and 15 of stat(5), counted after "pid (comm)"
  } catch {
    return undefined;
  }
}

interface Server { child: ChildProcess; base: string; tail: () => string; dataDir: string }

async function startServer(env: NodeJS.ProcessEnv): Promise<Server> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-bench-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd: root,
    env: { ...env, PORT: String(port), HOST: '127.0.0.1', IMGSENSE_DATA_DIR: dataDir, LOG_LEVEL: env.LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (d: Buffer) => { log = (log + d.toString('utf8')).slice(-4000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const base = `http://127.0.0.1:${port}`;
  const server: Server = { child, base, tail: () => log, dataDir };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it was ready:\n${log}`);
    try {
      const res = await fetch(`${base}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) return server;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopServer(server);
  throw new Error(`server not ready after 60 s:\n${log}`);
}

async function stopServer(s: Server): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) {
    const exited = new Promise((r) => s.child.once('exit', r));
    s.child.kill('SIGTERM');
    const timer = setTimeout(() => s.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(s.dataDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Report

function fmt(n: number | undefined, digits = 1): string {
  return n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

function row(p: PhaseResult, reference: PhaseResult | undefined, equivalent: PhaseResult | undefined, unit: string): string[] {
  const sorted = [...p.latenciesMs].sort((a, b) => a - b);
  const rate = (r: PhaseResult) => r.images / (r.wallMs / 1000);
  return [
    p.name, `${p.parallel} ${unit}`, String(p.images), fmt(p.wallMs / 1000, 2), fmt(rate(p)), fmt(p.megapixels / (p.wallMs / 1000)),
    fmt(percentile(sorted, 50)), fmt(percentile(sorted, 95)), fmt(p.cpuMsPerImage), fmt(p.clientCpuMsPerImage),
    reference ? fmt(rate(p) / rate(reference), 2) : '', equivalent ? fmt(rate(p) / rate(equivalent), 2) : '',
  ];
}

// ---------------------------------------------------------------------------------------------------------------

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

async function main(): Promise<number> {
  if (process.argv.includes('--raw-child')) {
    const report = await rawChild(JSON.parse(await readStdin()) as Parameters<typeof rawChild>[0]);
    process.stdout.write(`\n${JSON.stringify(report)}\n`);
    return 0;
  }

  const o = parseArgs(process.argv.slice(2));
  const photos = pickPhotos();
  const capMs = o.maxSeconds * 1000;
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env };
  const setMp = photos.reduce((s, p) => s + (p.width * p.height) / 1e6, 0);

  process.stdout.write(`imgsense processing bench: ${os.availableParallelism()} cores, Node ${process.version}; `
    + `${o.passes} passes x ${photos.length} photos (${fmt(setMp, 2)} MP per pass) per phase, at most ${o.maxSeconds} s each\n`);
  for (const p of photos) {
    process.stdout.write(`  ${p.path.padEnd(48)} ${p.format.padEnd(5)} ${`${p.width}x${p.height}`.padStart(10)} `
      + `${fmt((p.width * p.height) / 1e6, 2).padStart(5)} MP ${fmt(p.bytes / 1024, 0).padStart(6)} KiB\n`);
  }
  process.stdout.write(`  env for server and raw child: ${Object.keys(o.env).length ? Object.entries(o.env).map(([k, v]) => `${k}=${v}`).join(' ') : '(defaults)'}\n`);

  const raw = await runRawInChild(env, { photos, passes: o.passes, capMs, parallel: o.rawParallel });
  const reference = raw.phases[raw.best]!;
  const equivalent = raw.phases[raw.phases.length - 1]!;

  const blobs = photos.map((p) => new Blob([readFileSync(path.join(fixturesDir, p.path))], { type: `image/${p.format}` }));
  const names = photos.map((p) => path.basename(p.path));
  const errors: string[] = [];
  const server = await startServer(env);
  const pid = server.child.pid!;
  const url = `${server.base}/v1/images/process`;
  const request = async (i: number): Promise<boolean> => {
    const k = i % photos.length;
    const form = new FormData();
    form.append('image', blobs[k]!, names[k]!);
    form.append('operations', OPERATIONS);
    form.append('output', OUTPUT);
    try {
      const res = await fetch(url, { method: 'POST', body: form });
      const body = Buffer.from(await res.arrayBuffer());
      const width = Number(res.headers.get('x-image-width'));
      const height = Number(res.headers.get('x-image-height'));
      if (res.status === 200 && body[0] === 0xff && body[1] === 0xd8 && Math.max(width, height) <= 512) return true;
      if (errors.length < 5) errors.push(`${names[k]}: HTTP ${res.status} ${width}x${height} ${body.subarray(0, 300).toString('utf8')}`);
    } catch (err) {
      if (errors.length < 5) errors.push(`${names[k]}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return false;
  };

  const api: PhaseResult[] = [];
  let serverInfo = '';
  let serverPeakRssMb: number | undefined;
  try {
    await runPhase('warm-up', photos.length * 2, Math.max(...o.clients), capMs, photos, request);
    for (const c of o.clients) {
      const cpu0 = procCpuMs(pid);
      const client0 = process.cpuUsage();
      const r = await runPhase('API', photos.length * o.passes, c, capMs, photos, request);
      const cpu1 = procCpuMs(pid);
      const client = process.cpuUsage(client0);
      if (cpu0 !== undefined && cpu1 !== undefined) r.cpuMsPerImage = (cpu1 - cpu0) / Math.max(1, r.images);
      r.clientCpuMsPerImage = (client.user + client.system) / 1000 / Math.max(1, r.images);
      api.push(r);
    }
    serverPeakRssMb = procStatus(pid, 'VmHWM');
    serverInfo = `server peak RSS (VmHWM) ${fmt(serverPeakRssMb, 0)} MB, RSS at end ${fmt(procStatus(pid, 'VmRSS'), 0)} MB; `
      + `raw child peak RSS ${fmt(raw.maxRssMb, 0)} MB`;
  } finally {
    await stopServer(server);
  }

  const header = ['phase', 'parallel', 'images', 'wall s', 'img/s', 'MP/s', 'p50 ms', 'p95 ms', 'CPU ms/img', 'client CPU', 'vs raw', "vs API-opts"];
  const rows = [
    header,
    ...raw.phases.slice(0, -1).map((p, i) => {
      const r = row(p, reference, undefined, 'promises');
      if (i === raw.best) r[0] += ' (best)';
      return r;
    }),
    row(equivalent, reference, undefined, 'promises'),
    ...api.map((p) => row(p, reference, equivalent, 'clients')),
  ];
  process.stdout.write(`\nsharp.concurrency ${raw.sharpConcurrency} (raw child), UV_THREADPOOL_SIZE ${raw.uvThreadpool}\n`);
  process.stdout.write(`${table(rows)}\n`);
  process.stdout.write(`${serverInfo}\n`);
  process.stdout.write('vs raw = img/s over the best raw sharp row; vs API-opts = over raw sharp with the options the API passes;\n'
    + 'CPU ms/img = CPU of the process doing the image work (raw child or server); client CPU = this bench process.\n');

  const failures = api.reduce((s, p) => s + p.failures, 0);
  if (o.json) {
    const summary = (p: PhaseResult) => {
      const sorted = [...p.latenciesMs].sort((a, b) => a - b);
      return {
        name: p.name, parallel: p.parallel, images: p.images, imagesPerSecond: p.images / (p.wallMs / 1000),
        megapixelsPerSecond: p.megapixels / (p.wallMs / 1000), p50: percentile(sorted, 50), p95: percentile(sorted, 95),
        cpuMsPerImage: p.cpuMsPerImage, clientCpuMsPerImage: p.clientCpuMsPerImage,
      };
    };
    process.stdout.write(`${JSON.stringify({
      env: o.env, raw: raw.phases.map(summary), best: raw.best, api: api.map(summary),
      serverPeakRssMb, failures,
    })}\n`);
  }
  if (failures > 0) {
    process.stderr.write(`\n${failures} request(s) failed:\n${errors.join('\n')}\n--- server log tail ---\n${server.tail()}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`bench/processing: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
