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
 * Model runs spread over a fixed number of worker threads ("lanes"), first come first served: a run goes to an
 * idle lane first, else waits. Workers start on first use (a CLI that never runs a model never starts one) and a
 * lane whose worker died gets a fresh one.
 *
 * Single-threaded sessions (weight 1, the default) keep one more run queued in each worker behind the one it is
 * running, and do not take the CPU budget. The worker then starts its next run the moment one ends, instead of
 * idling until the main thread, busy cutting a crop or parsing an upload, has handed back the answer and sent the
 * next input; and a run that never spins needs no budget slot (the lanes already cap them at one thread each),
 * where a slot held until the main thread came round to release it kept libvips waiting too. Measured through
 * HTTP, faces at 16 clients (.tmp load runs, 3 alternating rounds): 1.65 -> 1.81 cores busy, 41 -> 49 img/s.
 * Sessions with several intra-op threads still run one at a time per lane and hold `weight` cores of the budget,
 * so that their threads never share a core with image work.
 */
export class SessionPool {
  private readonly lanes: (SessionWorker | undefined)[];
  /** Runs sent to each lane and not yet answered. */
  private readonly busy: number[];
  private readonly queue: Job[] = [];
  /** Runs a lane may hold: the running one, and for single-threaded sessions one queued behind it. */
  private readonly depth: number;

  constructor(
    size: number,
    private readonly weight: number,
    private readonly budget?: RunBudget,
  ) {
    this.lanes = Array.from({ length: Math.max(1, size) }, () => undefined);
    this.busy = this.lanes.map(() => 0);
    this.depth = weight <= 1 ? 2 : 1;
  }

  get size(): number {
    return this.lanes.length;
  }

  /** Runs in flight at most: what one model may have outstanding when not capped by the operator. */
  get capacity(): number {
    return this.lanes.length * this.depth;
  }

  /** Lanes with nothing to do: what a batch may be split across. */
  get idle(): number {
    return Math.max(0, this.busy.filter((b) => b === 0).length - this.queue.length);
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

  /** Idle lanes first, then (single-threaded sessions) a second run queued on a busy one. */
  private dispatch(): void {
    for (let held = 0; held < this.depth; held++) {
      for (let lane = 0; lane < this.lanes.length && this.queue.length > 0; lane++) {
        if (this.busy[lane] !== held) continue;
        const i = this.queue.findIndex((j) => j.lane === undefined || j.lane === lane);
        if (i < 0) continue;
        const job = this.queue.splice(i, 1)[0]!;
        this.busy[lane]! += 1;
        const work = () => this.worker(lane).run(job.spec, job.input);
        (this.budget && this.depth === 1 ? this.budget.run(this.weight, work) : work()).then(job.resolve, job.reject).finally(() => {
          this.busy[lane]! -= 1;
          this.dispatch();
        });
      }
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
