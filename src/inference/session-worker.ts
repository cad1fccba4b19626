import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * One onnxruntime thread of work: a worker thread that holds its own sessions and runs them. onnxruntime-node's
 * session.run is synchronous on the thread that calls it, so on the main thread a run blocks every request's
 * JavaScript, and two runs can never overlap; in workers they do. Measured on 2 cores (.tmp scripts, recorded in
 * docs/models.md): two workers with 1 intra-op thread each run blazeface, facemesh and faceres 1.36-1.45x as
 * many times per second as one session with 2 threads.
 *
 * The worker's code is a string evaluated as CommonJS, with onnxruntime-node required by absolute path: it then
 * runs the same whether the server runs from dist/ or from TypeScript through tsx (whose loader a worker does not
 * always inherit). It stays small: load sessions on demand, run, answer with the outputs' buffers transferred.
 */
const workerSource = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ort);
const sessions = new Map();
// This thread's CPU time (Linux: the scheduler's ns count, read with one pread): wall time overstates a run's
// cost whenever the cores are shared with the request's other work.
const fs = require('node:fs');
let cpuFd = -1;
try { cpuFd = fs.openSync('/proc/thread-self/schedstat', 'r'); } catch {}
const cpuBuf = Buffer.alloc(128);
let lastEnd = 0;
let lastCpuEnd = 0;
function cpuMs() {
  if (cpuFd < 0) return NaN;
  try { return Number(cpuBuf.toString('latin1', 0, fs.readSync(cpuFd, cpuBuf, 0, 128, 0)).split(' ')[0]) / 1e6; } catch { return NaN; }
}
function session(key, file, options) {
  let s = sessions.get(key);
  if (!s) {
    s = ort.InferenceSession.create(file, options);
    s.catch(() => sessions.delete(key));
    sessions.set(key, s);
  }
  return s;
}
parentPort.on('message', async (msg) => {
  if (msg.op === 'close') {
    for (const s of sessions.values()) await s.then((x) => x.release(), () => undefined);
    sessions.clear();
    parentPort.close();
    return;
  }
  try {
    const s = await session(msg.key, msg.file, msg.options);
    const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', msg.data, msg.dims) };
    const start = performance.now();
    const cpu0 = cpuMs();
    const out = await (msg.fetch ? s.run(feeds, msg.fetch) : s.run(feeds));
    // session.run defers the work to setImmediate, so a second queued message starts its clock before the first
    // run has happened: a run is timed from whichever came later, its request or the end of the run before it.
    const end = performance.now();
    const cpuEnd = cpuMs();
    const ms = end - Math.max(start, lastEnd);
    const cpu = cpuEnd - Math.max(cpu0, lastCpuEnd);
    lastEnd = end;
    lastCpuEnd = cpuEnd;
    const outputs = {};
    const transfer = [];
    for (const [name, t] of Object.entries(out)) {
      let data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data, Number);
      if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength || transfer.includes(data.buffer)) data = data.slice();
      transfer.push(data.buffer);
      outputs[name] = { data, dims: [...t.dims] };
    }
    parentPort.postMessage({ seq: msg.seq, outputs, ms, cpu: Number.isFinite(cpu) ? cpu : undefined }, transfer);
  } catch (err) {
    parentPort.postMessage({ seq: msg.seq, error: err instanceof Error ? err.message : String(err) });
  }
});
`;

export interface SessionSpec {
  /** Cache key of the session in a worker: one per converted model file. */
  key: string;
  file: string;
  /** onnxruntime SessionOptions, plain data. */
  options: Record<string, unknown>;
  /** Output names to copy out (ModelEntry.fetch); all when absent. */
  fetch?: string[];
  /**
   * Told how long each run of this session took inside the worker (session.run alone): wall clock, and the
   * worker thread's CPU time where the platform tells it (Linux).
   */
  timed?: (ms: number, cpuMs?: number) => void;
}

export interface WorkerOutputs {
  [name: string]: { data: Float32Array; dims: number[] };
}

interface Waiting { resolve: (out: WorkerOutputs) => void; reject: (err: Error) => void; timed?: SessionSpec['timed'] }

/** The main thread's handle on one worker: one run at a time, answers matched by sequence number. */
export class SessionWorker {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private seq = 0;
  private dead: Error | undefined;

  constructor() {
    const ort = createRequire(import.meta.url).resolve('onnxruntime-node');
    this.worker = new Worker(workerSource, { eval: true, workerData: { ort } });
    // An idle worker must not keep a CLI process alive; one with a run in flight must.
    this.worker.unref();
    this.worker.on('message', (m: { seq: number; outputs?: WorkerOutputs; ms?: number; cpu?: number; error?: string }) => {
      const w = this.waiting.get(m.seq);
      if (!w) return;
      this.settled(m.seq);
      if (m.error !== undefined) return w.reject(new Error(m.error));
      if (m.ms !== undefined) w.timed?.(m.ms, m.cpu);
      w.resolve(m.outputs!);
    });
    const fail = (err: Error) => {
      this.dead ??= err;
      for (const [seq, w] of [...this.waiting]) {
        this.settled(seq);
        w.reject(err);
      }
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`inference worker exited (code ${code})`)));
  }

  get alive(): boolean {
    return this.dead === undefined;
  }

  run(spec: SessionSpec, input: { data: Float32Array; dims: number[] }): Promise<WorkerOutputs> {
    if (this.dead) return Promise.reject(this.dead);
    const seq = ++this.seq;
    if (this.waiting.size === 0) this.worker.ref();
    return new Promise<WorkerOutputs>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject, timed: spec.timed });
      // The input is copied, not transferred: callers may read their tensor again after the run.
      this.worker.postMessage({ op: 'run', seq, key: spec.key, file: spec.file, options: spec.options, fetch: spec.fetch, data: input.data, dims: input.dims });
    });
  }

  private settled(seq: number): void {
    this.waiting.delete(seq);
    if (this.waiting.size === 0) this.worker.unref();
  }

  /** Releases the sessions and ends the thread. */
  async close(): Promise<void> {
    if (this.dead) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.ref();
    this.worker.postMessage({ op: 'close' });
    await exited;
  }
}
