/**
 * Processing throughput: sharp called directly vs the same work through the real HTTP API.
 *
 *   npm run bench:processing -- [--quick] [--env KEY=VALUE ...] [--rounds R] [--passes N] [--max-seconds S]
 *        [--clients 4,8] [--raw-parallel 2,4] [--form-per-request] [--idle-wait S] [--node-arg ARG ...] [--json]
 *
 * Workload: the JPEG photos of 1-12 megapixels listed in ../shared/fixtures/manifest.json (PNG/WebP photos of that
 * size are added only when there are fewer than four JPEGs), each resized to fit 512x512 and encoded as JPEG q80.
 *
 * - raw sharp runs in a child process that gets the same --env as the server: UV_THREADPOOL_SIZE is read by Node at
 *   start, and IMGSENSE_SHARP_CONCURRENCY is applied as sharp.concurrency the way src/imaging/configure.ts does.
 *   It keeps N promises in flight for each N of --raw-parallel (default: cores and twice that); the best N of each
 *   round is that round's reference. One more row runs, at that N, the sharp options the API's pipeline really passes
 *   (metadata probe, failOn, autoOrient, keepMetadata). keepMetadata keeps an embedded ICC profile instead of
 *   converting to sRGB, which is less work, so "vs API-opts" is the ratio that isolates what HTTP costs.
 * - the server is what `npm start` runs, `node dist/main.js serve` (built first), on a free loopback port
 *   (IMGSENSE_AUTH=off: bench/auth.ts measures authentication; LOG_LEVEL=warn unless --env sets it), driven by C
 *   concurrent clients for each C of --clients. The client shares the cores with the server, so it is the lightest
 *   Node has: node:http with a keep-alive agent, each photo's multipart body encoded once (by undici's FormData)
 *   and re-sent as bytes; --form-per-request encodes a new FormData for every request instead.
 *
 * The phases alternate, raw then API, for --rounds rounds (default 3; --quick: 1), so that a slow spell of this
 * shared machine hits both sides of a ratio; the table gives medians over rounds (ratios are per round, then the
 * median) and the spread. Every phase runs --passes passes over the set (default 40; --quick: 4) after a warm-up,
 * cut short at --max-seconds (default 30; --quick: 1.5). Before each phase the bench waits up to --idle-wait seconds
 * (default 20; --quick: 0) for other processes to leave the cores idle, reports the CPU others used during it, and
 * runs a phase again (up to 3 times, keeping the least disturbed run) when others used more than 5% of the cores.
 * CPU ms/img is the CPU time of the process doing the image work (raw child, or server from /proc/<pid>/stat);
 * client CPU is the bench's own. Server peak RSS is VmHWM at the end. The exit code is 0 unless a request failed
 * (non-200, or a body that is not a JPEG of at most 512 px) or the server did not start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildServer, encodeForm, keepAliveClient } from './lib/http-client.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const fixturesDir = path.resolve(root, '../shared/fixtures');
const cores = os.availableParallelism();

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
  rounds: number;
  passes: number;
  maxSeconds: number;
  clients: number[];
  rawParallel: number[];
  /** Build a new FormData for every request (costs the shared cores a few ms per request). */
  formPerRequest: boolean;
  /** Seconds to wait, before each phase, for other processes to leave the cores idle (0: do not wait). */
  idleWait: number;
  /** Extra arguments for the server's node, e.g. --cpu-prof (not allowed in NODE_OPTIONS). */
  nodeArgs: string[];
  json: boolean;
}

const usage = 'Usage: npm run bench:processing -- [--quick] [--env KEY=VALUE ...] [--rounds R] [--passes N] [--max-seconds S]\n'
  + '       [--clients 4,8] [--raw-parallel 2,4] [--form-per-request] [--idle-wait S] [--node-arg ARG ...] [--json]\n';

function numberList(flag: string, text: string | undefined): number[] {
  const list = (text ?? '').split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`Expected a comma-separated list of positive integers for ${flag} but received ${JSON.stringify(text)}`);
  }
  return [...new Set(list)];
}

function count(flag: string, text: string | undefined, min: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) throw new Error(`Expected a number of at least ${min} for ${flag} but received ${JSON.stringify(text)}`);
  return n;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    quick: false, env: {}, rounds: 0, passes: 0, maxSeconds: 0, clients: [4, 8], rawParallel: [cores, cores * 2],
    formPerRequest: false, idleWait: -1, nodeArgs: [], json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => (eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case '--quick': o.quick = true; break;
      case '--json': o.json = true; break;
      case '--form-per-request': o.formPerRequest = true; break;
      case '--node-arg': o.nodeArgs.push(value() ?? ''); break;
      case '--env': {
        const kv = value() ?? '';
        const at = kv.indexOf('=');
        if (at < 1) throw new Error(`Expected KEY=VALUE after --env but received ${JSON.stringify(kv)}`);
        o.env[kv.slice(0, at)] = kv.slice(at + 1);
        break;
      }
      case '--rounds': o.rounds = Math.round(count(flag, value(), 1)); break;
      case '--passes': o.passes = Math.round(count(flag, value(), 1)); break;
      case '--max-seconds': o.maxSeconds = count(flag, value(), 0.1); break;
      case '--idle-wait': o.idleWait = count(flag, value(), 0); break;
      case '--clients': o.clients = numberList(flag, value()); break;
      case '--raw-parallel': o.rawParallel = numberList(flag, value()); break;
      case '--help': case '-h':
        process.stdout.write(usage);
        process.exit(0);
        break;
      default:
        throw new Error(`Unknown option ${JSON.stringify(arg)}\n${usage}`);
    }
  }
  if (o.rounds === 0) o.rounds = o.quick ? 1 : 3;
  if (o.passes === 0) o.passes = o.quick ? 4 : 40;
  if (o.maxSeconds === 0) o.maxSeconds = o.quick ? 1.5 : 30;
  if (o.idleWait < 0) o.idleWait = o.quick ? 0 : 20;
  return o;
}

// ---------------------------------------------------------------------------------------------------------------
// Workload

interface ManifestFile {
  path: string; format: string; width: number; height: number; frames?: number; expect: string; bytes: number;
  note?: string; faces?: number; objects?: unknown;
}

interface Photo { path: string; format: string; width: number; height: number; bytes: number }

/** Photos, not test patterns: JPEGs, then PNG/WebP only when there are too few, and only photographic ones. */
function pickPhotos(): Photo[] {
  const manifest = JSON.parse(readFileSync(path.join(fixturesDir, 'manifest.json'), 'utf8')) as { files: ManifestFile[] };
  const inRange = (f: ManifestFile) => f.expect === 'ok' && (f.frames ?? 1) === 1
    && f.width * f.height >= MIN_PIXELS && f.width * f.height <= MAX_PIXELS;
  const photo = (f: ManifestFile) => /photo/i.test(f.note ?? '') || f.faces !== undefined || f.objects !== undefined;
  let chosen = manifest.files.filter((f) => inRange(f) && f.format === 'jpeg');
  if (chosen.length < MIN_JPEGS) {
    chosen = [...chosen, ...manifest.files.filter((f) => inRange(f) && (f.format === 'png' || f.format === 'webp') && photo(f))];
  }
  if (chosen.length === 0) throw new Error(`no photos of 1-12 megapixels in ${fixturesDir}/manifest.json`);
  return chosen.map(({ path: p, format, width, height, bytes }) => ({ path: p, format, width, height, bytes }));
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring

interface PhaseResult {
  parallel: number;
  images: number;
  megapixels: number;
  wallMs: number;
  latenciesMs: number[];
  failures: number;
  /** CPU time of the process doing the image work (raw child, or server) per image. */
  cpuMsPerImage?: number;
  /** CPU time of the load-generating bench process per image (API phases only). */
  clientCpuMsPerImage?: number;
  /** CPU used by other processes on the machine during the phase, in % of all cores (noise indicator). */
  otherCpuPct?: number;
  /** Runs of this phase it took to get one that others did not disturb. */
  attempts?: number;
}

const rate = (r: PhaseResult) => r.images / (r.wallMs / 1000);

/** Busy time of all cores since boot in ms, from /proc/stat (user nice system irq softirq steal). */
function machineBusyMs(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)) * 10;
  } catch {
    return undefined;
  }
}

/** Above this share of all cores used by other processes during a phase, the phase is run again. */
const DISTURBED_PCT = 5;
const RETRIES = 3;

/**
 * Others share this machine (tests, builds). Before a phase, wait until the cores have been nearly idle for one
 * second (four quarter-second samples in a row), for at most `maxMs`. A phase during which others still used more
 * than DISTURBED_PCT of the cores is run again, up to RETRIES times, and the least disturbed run is kept.
 */
async function waitIdle(maxMs: number): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  let quiet = 0;
  while (Date.now() < deadline && quiet < 4) {
    const b0 = machineBusyMs();
    await new Promise((r) => setTimeout(r, 250));
    const b1 = machineBusyMs();
    if (b0 === undefined || b1 === undefined) return false;
    quiet = (b1 - b0) / (250 * cores) < 0.08 ? quiet + 1 : 0;
  }
  return quiet >= 4;
}

function otherCpu(busy0: number | undefined, ownMs: number, wallMs: number): number | undefined {
  const busy1 = machineBusyMs();
  if (busy0 === undefined || busy1 === undefined) return undefined;
  return Math.max(0, (busy1 - busy0 - ownMs) / (wallMs * cores)) * 100;
}

/** Runs a measured phase after waiting for quiet, again when others disturbed it; keeps the least disturbed run. */
async function undisturbed(idleWaitMs: number, measure: () => Promise<PhaseResult>): Promise<PhaseResult> {
  let kept: PhaseResult | undefined;
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    const quiet = await waitIdle(idleWaitMs);
    const r = await measure();
    if (!kept || (r.otherCpuPct ?? 0) < (kept.otherCpuPct ?? 0)) kept = r;
    kept.attempts = attempt + 1;
    // No point in retrying when the machine never went quiet for the whole --idle-wait.
    if (!quiet || (r.otherCpuPct ?? 0) <= DISTURBED_PCT) break;
  }
  return kept!;
}

/**
 * Runs `total` items with `parallel` in flight, stopping early (no new items) after `capMs`.
 * Item i uses photo i % photos.length, so every pass covers the whole set in the same order.
 */
async function runPhase(
  total: number, parallel: number, capMs: number, photos: readonly Photo[], work: (index: number) => Promise<boolean>,
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
  return { parallel, images, megapixels, wallMs: performance.now() - start, latenciesMs, failures };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function median(values: readonly number[]): number {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

// ---------------------------------------------------------------------------------------------------------------
// Raw sharp, in a child process with the server's environment, driven one phase at a time over stdin/stdout

type Variant = 'plain' | 'apiOptions';
interface RawSetup { photos: Photo[]; warmParallel: number }
interface RawPhaseRequest { variant: Variant; parallel: number; total: number; capMs: number; idleWaitMs: number }
interface RawHello { sharpConcurrency: number; uvThreadpool: string }
const MARK = '@@bench ';

async function rawChild(): Promise<void> {
  const { default: sharp } = await import('sharp');
  // What src/imaging/configure.ts does with the same variable.
  const threads = Number(process.env.IMGSENSE_SHARP_CONCURRENCY ?? '0') || 0;
  if (threads > 0) sharp.concurrency(threads);
  sharp.cache(false);

  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const nextLine = async () => {
    const { value, done } = await lines.next();
    return done ? undefined : (JSON.parse(value as string) as unknown);
  };
  const reply = (value: unknown) => process.stdout.write(`${MARK}${JSON.stringify(value)}\n`);

  const setup = (await nextLine()) as RawSetup;
  const { photos } = setup;
  const buffers = photos.map((p) => readFileSync(path.join(fixturesDir, p.path)));
  const input = (i: number) => buffers[i % buffers.length]!;
  const work: Record<Variant, (i: number) => Promise<boolean>> = {
    plain: async (i) => {
      await sharp(input(i)).resize(512, 512, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 80 }).toBuffer();
      return true;
    },
    // The options src/imaging (probe.ts, source.ts, steps/resize.ts, pipeline.ts, encode.ts) passes for this request.
    apiOptions: async (i) => {
      const bytes = input(i);
      const m = await sharp(bytes, { limitInputPixels: false }).metadata();
      await sharp(bytes, { failOn: 'warning', limitInputPixels: m.width * m.height + 1, autoOrient: true })
        .resize({ width: 512, height: 512, fit: 'inside', withoutEnlargement: true, kernel: 'lanczos3', position: 'centre', background: '#00000000' })
        .keepMetadata()
        .jpeg({ quality: 80, progressive: false })
        .toBuffer();
      return true;
    },
  };
  for (const fn of Object.values(work)) await runPhase(photos.length * 2, setup.warmParallel, 60_000, photos, fn);
  reply({ sharpConcurrency: sharp.concurrency(), uvThreadpool: process.env.UV_THREADPOOL_SIZE ?? '4 (default)' } satisfies RawHello);

  for (let req = (await nextLine()) as RawPhaseRequest | undefined; req; req = (await nextLine()) as RawPhaseRequest | undefined) {
    const { total, parallel, capMs, variant } = req;
    reply(await undisturbed(req.idleWaitMs, async () => {
      const busy0 = machineBusyMs();
      const cpu0 = process.cpuUsage();
      const r = await runPhase(total, parallel, capMs, photos, work[variant]);
      const cpu = process.cpuUsage(cpu0);
      const ownMs = (cpu.user + cpu.system) / 1000;
      r.cpuMsPerImage = ownMs / Math.max(1, r.images);
      r.otherCpuPct = otherCpu(busy0, ownMs, r.wallMs);
      return r;
    }));
  }
  reply({ maxRssMb: process.resourceUsage().maxRSS / 1024 });
}

interface RawDriver {
  hello: RawHello;
  phase(req: RawPhaseRequest): Promise<PhaseResult>;
  /** Ends the child; answers its peak RSS in MB. */
  finish(): Promise<number>;
}

async function startRaw(env: NodeJS.ProcessEnv, setup: RawSetup): Promise<RawDriver> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--raw-child'], {
    cwd: root, env, stdio: ['pipe', 'pipe', 'inherit'],
  });
  const replies = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const receive = async (): Promise<unknown> => {
    for (;;) {
      const { value, done } = await replies.next();
      if (done) throw new Error(`raw sharp child exited (${await exited}) without answering`);
      if ((value as string).startsWith(MARK)) return JSON.parse((value as string).slice(MARK.length));
    }
  };
  const send = (value: unknown) => child.stdin.write(`${JSON.stringify(value)}\n`);
  send(setup);
  const hello = (await receive()) as RawHello;
  return {
    hello,
    phase: async (req) => { send(req); return (await receive()) as PhaseResult; },
    finish: async () => {
      child.stdin.end();
      const { maxRssMb } = (await receive()) as { maxRssMb: number };
      await exited;
      return maxRssMb;
    },
  };
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

function procStatusMb(pid: number, field: string): number | undefined {
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
    return (Number(fields[11]) + Number(fields[12])) * 10; // fields 14 and 15 of proc(5), counted after "pid (comm)"
  } catch {
    return undefined;
  }
}

interface Server { child: ChildProcess; base: string; tail: () => string; dataDir: string }

async function startServer(env: NodeJS.ProcessEnv, nodeArgs: string[]): Promise<Server> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-bench-'));
  const child = spawn(process.execPath, [...nodeArgs, ...buildServer(root)], {
    cwd: root,
    // Authentication is measured on its own (bench/auth.ts); here the server is open unless --env says otherwise.
    env: { IMGSENSE_AUTH: 'off', ...env, PORT: String(port), HOST: '127.0.0.1', IMGSENSE_DATA_DIR: dataDir, LOG_LEVEL: env.LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (d: Buffer) => { log = (log + d.toString('utf8')).slice(-4000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const server: Server = { child, base: `http://127.0.0.1:${port}`, tail: () => log, dataDir };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`server exited with ${child.exitCode} before it was ready:\n${log}`);
    }
    try {
      const res = await fetch(`${server.base}/readyz`);
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

/** One phase over all rounds: medians of rates and CPU, pooled latencies, the worst noise. */
interface Summary {
  name: string; parallel: string; images: number; imagesPerSecond: number; imagesPerSecondMin: number; imagesPerSecondMax: number;
  megapixelsPerSecond: number; p50: number; p95: number; cpuMsPerImage: number; clientCpuMsPerImage: number;
  otherCpuPctMax: number; vsRaw?: number; vsApiOptions?: number; failures: number;
}

function summarise(name: string, unit: string, runs: PhaseResult[], vsRaw?: number[], vsApiOptions?: number[]): Summary {
  const latencies = runs.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  const rates = runs.map(rate);
  return {
    name,
    parallel: `${[...new Set(runs.map((r) => r.parallel))].join('/')} ${unit}`,
    images: runs.reduce((s, r) => s + r.images, 0),
    imagesPerSecond: median(rates),
    imagesPerSecondMin: Math.min(...rates),
    imagesPerSecondMax: Math.max(...rates),
    megapixelsPerSecond: median(runs.map((r) => r.megapixels / (r.wallMs / 1000))),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    cpuMsPerImage: median(runs.map((r) => r.cpuMsPerImage ?? NaN)),
    clientCpuMsPerImage: median(runs.map((r) => r.clientCpuMsPerImage ?? NaN)),
    otherCpuPctMax: Math.max(...runs.map((r) => r.otherCpuPct ?? 0)),
    ...(vsRaw && { vsRaw: median(vsRaw) }),
    ...(vsApiOptions && { vsApiOptions: median(vsApiOptions) }),
    failures: runs.reduce((s, r) => s + r.failures, 0),
  };
}

function row(s: Summary, rounds: number): string[] {
  return [
    s.name, s.parallel, String(s.images), fmt(s.imagesPerSecond),
    ...(rounds > 1 ? [`${fmt(s.imagesPerSecondMin, 0)}-${fmt(s.imagesPerSecondMax, 0)}`] : []),
    fmt(s.megapixelsPerSecond), fmt(s.p50), fmt(s.p95), fmt(s.cpuMsPerImage), fmt(s.clientCpuMsPerImage),
    fmt(s.otherCpuPctMax, 0), fmt(s.vsRaw, 2), fmt(s.vsApiOptions, 2),
  ];
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  if (process.argv.includes('--raw-child')) {
    await rawChild();
    return 0;
  }

  const o = parseArgs(process.argv.slice(2));
  const photos = pickPhotos();
  const capMs = o.maxSeconds * 1000;
  const idleWaitMs = o.idleWait * 1000;
  const total = o.passes * photos.length;
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env };
  const setMp = photos.reduce((s, p) => s + (p.width * p.height) / 1e6, 0);
  const out = (text: string) => process.stdout.write(text);

  out(`imgsense processing bench: ${cores} cores, Node ${process.version}; ${o.rounds} round(s) of raw then API phases, `
    + `each ${o.passes} passes x ${photos.length} photos (${fmt(setMp, 2)} MP per pass), at most ${o.maxSeconds} s\n`);
  for (const p of photos) {
    out(`  ${p.path.padEnd(48)} ${p.format.padEnd(5)} ${`${p.width}x${p.height}`.padStart(10)} `
      + `${fmt((p.width * p.height) / 1e6, 2).padStart(5)} MP ${fmt(p.bytes / 1024, 0).padStart(6)} KiB\n`);
  }
  const envText = Object.keys(o.env).length ? Object.entries(o.env).map(([k, v]) => `${k}=${v}`).join(' ') : '(defaults)';
  out(`  env for server and raw child: ${envText}\n`);

  const raw = await startRaw(env, { photos, warmParallel: Math.max(...o.rawParallel) });
  let server: Server;
  try {
    server = await startServer(env, o.nodeArgs);
  } catch (err) {
    await raw.finish().catch(() => undefined);
    throw err;
  }
  const pid = server.child.pid!;
  const url = `${server.base}/v1/images/process`;
  const blobs = photos.map((p) => new Blob([readFileSync(path.join(fixturesDir, p.path))], { type: `image/${p.format}` }));
  const names = photos.map((p) => path.basename(p.path));
  const errors: string[] = [];
  const client = keepAliveClient(Math.max(...o.clients));
  const encode = (k: number) => encodeForm({ image: new File([blobs[k]!], names[k]!), operations: OPERATIONS, output: OUTPUT });
  const encoded = await Promise.all(photos.map((_, k) => encode(k)));
  const request = async (i: number): Promise<boolean> => {
    const k = i % photos.length;
    try {
      const res = await client.post(url, o.formPerRequest ? await encode(k) : encoded[k]!);
      const width = Number(res.headers['x-image-width']);
      const height = Number(res.headers['x-image-height']);
      if (res.status === 200 && res.body[0] === 0xff && res.body[1] === 0xd8 && Math.max(width, height) <= 512) return true;
      if (errors.length < 5) errors.push(`${names[k]}: HTTP ${res.status} ${width}x${height} ${res.body.subarray(0, 300).toString('utf8')}`);
    } catch (err) {
      if (errors.length < 5) errors.push(`${names[k]}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return false;
  };
  const apiPhase = (clients: number): Promise<PhaseResult> => undisturbed(idleWaitMs, async () => {
    const busy0 = machineBusyMs();
    const cpu0 = procCpuMs(pid);
    const client0 = process.cpuUsage();
    const r = await runPhase(total, clients, capMs, photos, request);
    const cpu1 = procCpuMs(pid);
    const client = process.cpuUsage(client0);
    const clientMs = (client.user + client.system) / 1000;
    r.clientCpuMsPerImage = clientMs / Math.max(1, r.images);
    if (cpu0 !== undefined && cpu1 !== undefined) {
      r.cpuMsPerImage = (cpu1 - cpu0) / Math.max(1, r.images);
      r.otherCpuPct = otherCpu(busy0, cpu1 - cpu0 + clientMs, r.wallMs);
    }
    return r;
  });

  const rawRuns = new Map<number, PhaseResult[]>(o.rawParallel.map((n) => [n, []]));
  const optionRuns: PhaseResult[] = [];
  const apiRuns = new Map<number, PhaseResult[]>(o.clients.map((c) => [c, []]));
  const vsRaw = new Map<number, number[]>(o.clients.map((c) => [c, []]));
  const vsOptions = new Map<number, number[]>(o.clients.map((c) => [c, []]));
  const optionsVsRaw: number[] = [];
  const rawVsBest = new Map<number, number[]>(o.rawParallel.map((n) => [n, []]));
  let serverPeakRssMb: number | undefined;
  let serverRssMb: number | undefined;
  try {
    await runPhase(photos.length * 2, Math.max(...o.clients), 60_000, photos, request); // warm-up
    for (let round = 0; round < o.rounds; round++) {
      const plain = [];
      for (const n of o.rawParallel) {
        const r = await raw.phase({ variant: 'plain', parallel: n, total, capMs, idleWaitMs });
        rawRuns.get(n)!.push(r);
        plain.push(r);
      }
      const best = plain.reduce((a, b) => (rate(b) > rate(a) ? b : a));
      for (const r of plain) rawVsBest.get(r.parallel)!.push(rate(r) / rate(best));
      const options = await raw.phase({ variant: 'apiOptions', parallel: best.parallel, total, capMs, idleWaitMs });
      optionRuns.push(options);
      optionsVsRaw.push(rate(options) / rate(best));
      for (const c of o.clients) {
        const r = await apiPhase(c);
        apiRuns.get(c)!.push(r);
        vsRaw.get(c)!.push(rate(r) / rate(best));
        vsOptions.get(c)!.push(rate(r) / rate(options));
      }
    }
    serverPeakRssMb = procStatusMb(pid, 'VmHWM');
    serverRssMb = procStatusMb(pid, 'VmRSS');
  } finally {
    client.close();
    await stopServer(server);
  }
  const rawPeakRssMb = await raw.finish();

  const rawSummaries = o.rawParallel.map((n) => summarise('raw sharp', 'promises', rawRuns.get(n)!, rawVsBest.get(n)!));
  const bestIndex = rawSummaries.reduce((b, s, i) => (s.imagesPerSecond > rawSummaries[b]!.imagesPerSecond ? i : b), 0);
  rawSummaries[bestIndex]!.name += ' (best)';
  const summaries = [
    ...rawSummaries,
    summarise("raw, API's options", 'promises', optionRuns, optionsVsRaw),
    ...o.clients.map((c) => summarise('API', 'clients', apiRuns.get(c)!, vsRaw.get(c)!, vsOptions.get(c)!)),
  ];
  const header = ['phase', 'parallel', 'images', 'img/s', ...(o.rounds > 1 ? ['range'] : []), 'MP/s', 'p50 ms', 'p95 ms',
    'CPU ms/img', 'client CPU', 'other CPU%', 'vs raw', 'vs API-opts'];

  out(`\nsharp.concurrency ${raw.hello.sharpConcurrency} (raw child), UV_THREADPOOL_SIZE ${raw.hello.uvThreadpool}; `
    + `server env: ${envText}\n`);
  out(`${table([header, ...summaries.map((s) => row(s, o.rounds))])}\n`);
  out(`server peak RSS (VmHWM) ${fmt(serverPeakRssMb, 0)} MB, RSS at end ${fmt(serverRssMb, 0)} MB; raw child peak RSS ${fmt(rawPeakRssMb, 0)} MB\n`);
  out(`img/s and CPU: median of ${o.rounds} round(s)${o.rounds > 1 ? ' (range: slowest-fastest round)' : ''}; p50/p95: per image (raw) or request (API), all rounds.\n`
    + 'vs raw / vs API-opts: per round, img/s over that round\'s best raw sharp row / over raw sharp with the options the\n'
    + 'API passes; median over rounds. CPU ms/img: the process doing the image work (raw child or server); client CPU:\n'
    + 'this bench process, which shares the cores; other CPU%: the most other processes used of all cores in a round.\n');
  const allRuns = [...rawRuns.values(), optionRuns, ...apiRuns.values()].flat();
  const rerun = allRuns.reduce((n, r) => n + (r.attempts ?? 1) - 1, 0);
  if (rerun) out(`${rerun} phase run(s) were repeated because other processes used more than ${DISTURBED_PCT}% of the cores.\n`);
  const disturbed = summaries.filter((s) => s.otherCpuPctMax > DISTURBED_PCT).length;
  if (disturbed) out(`WARNING: ${disturbed} row(s) include a round that others disturbed (other CPU% > ${DISTURBED_PCT}); rerun when the machine is idle.\n`);

  const failures = summaries.reduce((s, p) => s + p.failures, 0);
  if (o.json) {
    out(`${JSON.stringify({
      env: o.env, rounds: o.rounds, passes: o.passes, photos: photos.map((p) => p.path), sharpConcurrency: raw.hello.sharpConcurrency,
      summaries, serverPeakRssMb, rawPeakRssMb, failures,
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
