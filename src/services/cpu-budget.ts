/**
 * The machine's cores as one shared budget. Image work (libvips threads per image) and model runs
 * (onnxruntime intra-op threads) both draw from it, so together they never run more busy threads than there
 * are cores: on 2 cores an inference with 2 threads waits for the image resize in flight, instead of three
 * threads fighting over two cores and every request getting slower.
 */
export class CpuBudget {
  private free: number;
  private readonly waiting: { weight: number; start: () => void }[] = [];

  constructor(readonly cores: number) {
    this.free = cores;
  }

  async run<T>(weight: number, fn: () => Promise<T>): Promise<T> {
    const w = Math.max(1, Math.min(weight, this.cores));
    if (this.free < w || this.waiting.length > 0) {
      await new Promise<void>((start) => this.waiting.push({ weight: w, start }));
    } else {
      this.free -= w;
    }
    try {
      return await fn();
    } finally {
      this.free += w;
      this.wake();
    }
  }

  /** First come, first served: a heavy waiter at the head is not overtaken by light ones behind it. */
  private wake(): void {
    while (this.waiting.length > 0 && this.waiting[0]!.weight <= this.free) {
      const next = this.waiting.shift()!;
      this.free -= next.weight;
      next.start();
    }
  }

  get available(): number {
    return this.free;
  }
}
