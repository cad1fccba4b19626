/**
 * A one-line progress bar, `[=====>     ] 12/40 files`, redrawn in place. It only draws on a terminal: when
 * stderr is a pipe or a file (CI logs, `2> log`) it stays silent, so logs hold no carriage-return noise.
 */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): boolean;
}

export function renderBar(done: number, total: number, width: number, unit = 'files'): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.floor(ratio * width);
  const bar = filled >= width ? '='.repeat(width) : `${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}`;
  return `[${bar}] ${done}/${total} ${unit}`;
}

export class ProgressBar {
  private done = 0;
  private lastDraw = 0;
  private readonly active: boolean;

  constructor(
    private readonly total: number,
    private readonly stream: ProgressStream = process.stderr,
    private readonly unit = 'files',
  ) {
    this.active = stream.isTTY === true && total > 0;
    this.draw(true);
  }

  /** One more item finished (whatever its outcome). */
  tick(): void {
    this.done++;
    this.draw(this.done === this.total);
  }

  /** Clears the bar so that what follows starts on a clean line. */
  finish(): void {
    if (this.active) this.stream.write('\r\x1b[K');
  }

  private draw(force: boolean): void {
    if (!this.active) return;
    const now = Date.now();
    // Thousands of small files finish faster than a terminal can usefully redraw.
    if (!force && now - this.lastDraw < 50) return;
    this.lastDraw = now;
    const label = ` ${this.total}/${this.total} ${this.unit}`.length;
    const width = Math.max(10, Math.min(40, (this.stream.columns || 80) - label - 3));
    this.stream.write(`\r${renderBar(this.done, this.total, width, this.unit)}\x1b[K`);
  }
}

/**
 * Runs `task(i)` for every i below `count`, `concurrency` at a time (as many as the service runs at once: every
 * core busy, never a queue), ticking a progress bar of `unit` after each, whatever its outcome.
 */
export async function forEachWithProgress(count: number, concurrency: number, task: (i: number) => Promise<void>, unit = 'files'): Promise<void> {
  const progress = new ProgressBar(count, process.stderr, unit);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await task(i);
      progress.tick();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
  progress.finish();
}
