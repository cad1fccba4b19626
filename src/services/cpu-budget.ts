/**
 * The machine's cores as one shared budget. Image work (libvips threads per image) and model runs
 * (onnxruntime intra-op threads) both draw from it, so together they never run more busy threads than there
 * are cores: on 2 cores an inference with 2 threads waits for the image resize in flight, instead of three
 * threads fighting over two cores and every request getting slower.
 *
 * One exception, `overcommit`: while no model run holds the budget, image work may take `slack` slots beyond
 * the cores. A libvips pipeline's core goes idle each time the event loop hands its result back and starts the
 * next image (and while the loop parses uploads or collects garbage); one more image ready to run fills those
 * gaps. Model runs never overcommit: onnxruntime's threads spin and lose far more when they share a core.
 */
/** What a service needs of the budget (a test or the CLI may hand in another). */
export type CoreBudget = Pick<CpuBudget, 'run'>;

export class CpuBudget {
  private free: number;
  /** Holders that did not ask to overcommit (model runs): while any runs, nobody overcommits. */
  private strict = 0;
  private readonly waiting: { weight: number; overcommit: boolean; start: () => void }[] = [];

  constructor(readonly cores: number, private readonly slack = 0) {
    this.free = cores;
  }

  private admits(weight: number, overcommit: boolean): boolean {
    if (this.free >= weight) return true;
    return overcommit && this.strict === 0 && this.free + this.slack >= weight;
  }

  private take(weight: number, overcommit: boolean): void {
    this.free -= weight;
    if (!overcommit) this.strict += 1;
  }

  async run<T>(weight: number, fn: () => Promise<T>, opts: { overcommit?: boolean } = {}): Promise<T> {
    const w = Math.max(1, Math.min(weight, this.cores));
    const overcommit = opts.overcommit ?? false;
    if (this.waiting.length > 0 || !this.admits(w, overcommit)) {
      await new Promise<void>((start) => this.waiting.push({ weight: w, overcommit, start }));
    } else {
      this.take(w, overcommit);
    }
    try {
      return await fn();
    } finally {
      this.free += w;
      if (!overcommit) this.strict -= 1;
      this.wake();
    }
  }

  /** First come, first served: a heavy waiter at the head is not overtaken by light ones behind it. */
  private wake(): void {
    while (this.waiting.length > 0 && this.admits(this.waiting[0]!.weight, this.waiting[0]!.overcommit)) {
      const next = this.waiting.shift()!;
      this.take(next.weight, next.overcommit);
      next.start();
    }
  }

  get available(): number {
    return this.free;
  }
}
