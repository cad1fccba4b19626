import { SessionWorker, type SessionSpec, type WorkerOutputs } from './session-worker.js';

/** The share of the cores a run holds while it runs (the server's CpuBudget). */
export interface RunBudget { run<T>(weight: number, fn: () => Promise<T>): Promise<T> }

interface Job {
  spec: SessionSpec;
  input: { data: Float32Array; dims: number[] };
  lane?: number;
  resolve: (out: WorkerOutputs) => void;
  reject: (err: unknown) => void;
}

/**
 * Model runs spread over a fixed number of worker threads ("lanes"), first come first served: a run goes to the
 * first idle lane, and waits for one when all are busy. Each run also holds `weight` cores of the shared CPU
 * budget while it runs, so image decoding and model runs together never ask for more cores than there are.
 * Workers start on first use (a CLI that never runs a model never starts one) and a lane whose worker died gets
 * a fresh one.
 */
export class SessionPool {
  private readonly lanes: (SessionWorker | undefined)[];
  private readonly busy: boolean[];
  private readonly queue: Job[] = [];

  constructor(
    size: number,
    private readonly weight: number,
    private readonly budget?: RunBudget,
  ) {
    this.lanes = Array.from({ length: Math.max(1, size) }, () => undefined);
    this.busy = this.lanes.map(() => false);
  }

  get size(): number {
    return this.lanes.length;
  }

  /** Lanes with nothing to do: what a batch may be split across. */
  get idle(): number {
    return Math.max(0, this.busy.filter((b) => !b).length - this.queue.length);
  }

  run(spec: SessionSpec, input: Job['input']): Promise<WorkerOutputs> {
    return new Promise((resolve, reject) => {
      this.queue.push({ spec, input, resolve, reject });
      this.dispatch();
    });
  }

  /** Runs once on every lane (warming each worker's session), in parallel. */
  runOnEach(spec: SessionSpec, input: Job['input']): Promise<WorkerOutputs[]> {
    return Promise.all(this.lanes.map((_, lane) => new Promise<WorkerOutputs>((resolve, reject) => {
      this.queue.push({ spec, input, lane, resolve, reject });
      this.dispatch();
    })));
  }

  private dispatch(): void {
    for (let lane = 0; lane < this.lanes.length && this.queue.length > 0; lane++) {
      if (this.busy[lane]) continue;
      const i = this.queue.findIndex((j) => j.lane === undefined || j.lane === lane);
      if (i < 0) continue;
      const job = this.queue.splice(i, 1)[0]!;
      this.busy[lane] = true;
      const work = () => this.worker(lane).run(job.spec, job.input);
      (this.budget ? this.budget.run(this.weight, work) : work()).then(job.resolve, job.reject).finally(() => {
        this.busy[lane] = false;
        this.dispatch();
      });
    }
  }

  private worker(lane: number): SessionWorker {
    let w = this.lanes[lane];
    if (!w || !w.alive) this.lanes[lane] = w = new SessionWorker();
    return w;
  }

  async close(): Promise<void> {
    const all = this.lanes.filter((w): w is SessionWorker => w !== undefined);
    this.lanes.fill(undefined);
    await Promise.all(all.map((w) => w.close()));
  }
}
