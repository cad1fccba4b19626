import type * as ort from 'onnxruntime-node';
import type { ModelStore, PreparedModel } from './model-store.js';
import type { ModelEntry } from './registry.js';
import { SessionPool, type RunBudget } from './session-pool.js';
import type { SessionSpec } from './session-worker.js';
import { modelCpuSeconds, modelRunSeconds } from '../observability/metrics.js';

/** Typed arrays in, typed arrays out: callers never see the runtime's tensor type. */
export interface TensorData {
  data: Float32Array;
  dims: number[];
}

export interface RuntimeOptions {
  /** onnxruntime intra-op threads per session. With sharp on the same cores, this is the inference share. */
  threads: number;
  /** Worker threads that run models, each with its own sessions (default 1). Runs on different workers overlap. */
  workers?: number;
  /** Runs of one model in flight, across the workers; 0 = what the workers hold (SessionPool.capacity). */
  concurrencyPerModel: number;
  /** How long a dynamic-batch model waits for more requests to join a batch, in ms (0 disables batching). */
  batchWindowMs: number;
  maxBatch: number;
  /** 'cuda' needs onnxruntime's CUDA provider on the machine; 'cpu' is the default and the tested path. */
  provider?: 'cpu' | 'cuda';
  /** A core budget shared with image processing, so the two never oversubscribe the CPU. */
  budget?: RunBudget;
}

/**
 * The options of every session. Intra-op threads stop spinning when a run ends: each session owns its own pool,
 * and a pool left spinning after its run takes a core from the next model of the same request (the faces path
 * runs four to six) and from sharp. Measured on blazeface -> facemesh -> faceres -> emotion, 2 threads each
 * (bench/profile-model.ts --pipeline): 15 ms per request, against 49-61 ms with onnxruntime's default spinning
 * and 18 ms with no spinning at all; a model run alone in a loop loses 0-15% to it.
 */
export function sessionOptions(threads: number, provider: 'cpu' | 'cuda' = 'cpu'): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    executionProviders: [provider],
    extra: { session: { force_spinning_stop: '1' } },
  };
}

interface Pending {
  input: TensorData;
  resolve: (out: Record<string, TensorData>) => void;
  reject: (err: unknown) => void;
}

class ModelRunner {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly spec: SessionSpec;

  constructor(
    readonly entry: ModelEntry,
    readonly prepared: PreparedModel,
    private readonly pool: SessionPool,
    private readonly opts: RuntimeOptions,
  ) {
    const timer = modelRunSeconds.labels(entry.id);
    const cpu = modelCpuSeconds.labels(entry.id);
    this.spec = {
      key: `${entry.id}:${prepared.sha256}`,
      file: prepared.onnx,
      options: sessionOptions(opts.threads, opts.provider) as Record<string, unknown>,
      ...(entry.fetch && { fetch: entry.fetch }),
      timed: (ms, cpuMs) => {
        timer.observe(ms / 1000);
        if (cpuMs !== undefined) cpu.inc(cpuMs / 1000);
      },
    };
  }

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    const limit = this.opts.concurrencyPerModel || this.pool.capacity;
    if (this.active >= limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private execute(input: TensorData): Promise<Record<string, TensorData>> {
    return this.slot(() => this.pool.run(this.spec, input));
  }

  /** Runs once on every worker, so the first requests do not pay for loading the session. */
  warm(input: TensorData): Promise<unknown> {
    return this.pool.runOnEach(this.spec, input);
  }

  run(input: TensorData): Promise<Record<string, TensorData>> {
    const batchable = this.entry.input.batch === 'dynamic' && this.opts.batchWindowMs > 0 && this.opts.maxBatch > 1;
    if (!batchable) return this.execute(input);
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.queue.length >= this.opts.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.batchWindowMs);
    });
  }

  /**
   * Runs the queued requests as batches along axis 0 and hands each caller its own slice. On the CPU a batch
   * costs about what its images cost one by one (facemesh: 4 crops in one run 28.7 ms, alone 7.6 ms each), so
   * the queue is split across the idle workers, where the parts run at the same time.
   */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const taken = this.queue.splice(0, this.opts.maxBatch);
    if (taken.length === 0) return;
    if (this.queue.length) this.timer = setTimeout(() => this.flush(), 0);
    const parts = Math.min(taken.length, Math.max(1, this.pool.idle));
    const per = Math.ceil(taken.length / parts);
    for (let i = 0; i < taken.length; i += per) this.runBatch(taken.slice(i, i + per));
  }

  private runBatch(batch: Pending[]): void {
    const sameShape = batch.every((p) => p.input.dims.slice(1).join() === batch[0]!.input.dims.slice(1).join());
    if (batch.length === 1 || !sameShape) {
      for (const p of batch) this.execute(p.input).then(p.resolve, p.reject);
      return;
    }
    const per = batch.map((p) => p.input.dims[0]!);
    const total = per.reduce((a, b) => a + b, 0);
    const data = new Float32Array(batch.reduce((n, p) => n + p.input.data.length, 0));
    let offset = 0;
    for (const p of batch) {
      data.set(p.input.data, offset);
      offset += p.input.data.length;
    }
    this.execute({ data, dims: [total, ...batch[0]!.input.dims.slice(1)] }).then((out) => {
      let start = 0;
      batch.forEach((p, i) => {
        const mine: Record<string, TensorData> = {};
        for (const [k, t] of Object.entries(out)) {
          const rowSize = t.data.length / t.dims[0]!;
          mine[k] = { data: t.data.slice(start * rowSize, (start + per[i]!) * rowSize), dims: [per[i]!, ...t.dims.slice(1)] };
        }
        start += per[i]!;
        p.resolve(mine);
      });
    }, (err) => batch.forEach((p) => p.reject(err)));
  }
}

/**
 * Models converted once (cached on disk) and run on a pool of worker threads, each holding its own session of
 * every model it has run; bounded concurrency per model, and micro-batching for models with a dynamic batch axis.
 */
export class InferenceRuntime {
  private readonly runners = new Map<string, Promise<ModelRunner>>();
  private readonly pool: SessionPool;

  constructor(private readonly store: ModelStore, private readonly models: readonly ModelEntry[], private readonly opts: RuntimeOptions) {
    this.pool = new SessionPool(opts.workers ?? 1, opts.threads, opts.budget);
  }

  entry(id: string): ModelEntry {
    const e = this.models.find((m) => m.id === id);
    if (!e) throw new Error(`unknown model ${id}`);
    return e;
  }

  private runner(id: string): Promise<ModelRunner> {
    let r = this.runners.get(id);
    if (!r) {
      const entry = this.entry(id);
      r = (async () => new ModelRunner(entry, this.store.prepare(entry), this.pool, this.opts))();
      r.catch(() => this.runners.delete(id));
      this.runners.set(id, r);
    }
    return r;
  }

  /** Converts (if needed) and loads each model on every worker and runs it once, so the first request does not pay for it. */
  async warm(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const runner = await this.runner(id);
      const spec = runner.entry.input;
      const [h, w] = spec.size ?? [64, 64];
      const dims = spec.layout === 'nhwc' ? [1, h, w, spec.channels] : [1, spec.channels, h, w];
      await runner.warm({ data: new Float32Array(dims.reduce((a, b) => a * b, 1)), dims });
    }
  }

  async run(id: string, input: TensorData): Promise<Record<string, TensorData>> {
    return (await this.runner(id)).run(input);
  }

  async close(): Promise<void> {
    this.runners.clear();
    await this.pool.close();
  }
}
