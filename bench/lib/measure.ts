import type { BatchTiming, MeasureOptions, Timing } from './protocol.js';

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Warm-ups, then timed runs until `n` runs or, for slow models, until the budget is spent (but at least
 * minSamples runs). Warm-ups stop early once they alone have spent half the budget (at least one is run).
 */
export async function measure(run: () => Promise<unknown>, opts: MeasureOptions): Promise<Timing> {
  let warmups = 0;
  const warmStart = performance.now();
  while (warmups < Math.max(1, opts.warmups)) {
    await run();
    warmups++;
    if (performance.now() - warmStart > opts.budgetMs / 2) break;
  }
  const samples: number[] = [];
  const start = performance.now();
  let capped = false;
  while (samples.length < opts.n) {
    if (samples.length >= opts.minSamples && performance.now() - start >= opts.budgetMs) {
      capped = true;
      break;
    }
    const t = performance.now();
    await run();
    samples.push(performance.now() - t);
  }
  return { samples: samples.length, warmups, medianMs: median(samples), minMs: Math.min(...samples), maxMs: Math.max(...samples), capped };
}

/**
 * Throughput at each batch size: batch 1 reuses the latency measurement; a larger batch is skipped when one run
 * of it would (by the best per-image time so far) take longer than the budget.
 */
export async function sweep(
  batches: readonly number[],
  b1: Timing,
  runBatch: (batch: number) => Promise<() => Promise<unknown>>,
  opts: MeasureOptions,
): Promise<BatchTiming[]> {
  const out: BatchTiming[] = [];
  let bestPerImage = b1.medianMs;
  for (const batch of [...batches].sort((a, b) => a - b)) {
    if (batch === 1) {
      out.push({ batch, timing: b1, imagesPerSecond: 1000 / b1.medianMs });
      continue;
    }
    const estimate = bestPerImage * batch;
    if (estimate > opts.budgetMs) {
      out.push({ batch, skipped: `one run would take ~${(estimate / 1000).toFixed(1)} s` });
      continue;
    }
    try {
      const run = await runBatch(batch);
      const timing = await measure(run, opts);
      out.push({ batch, timing, imagesPerSecond: (1000 * batch) / timing.medianMs });
      bestPerImage = Math.min(bestPerImage, timing.medianMs / batch);
    } catch (err) {
      out.push({ batch, skipped: `failed: ${String((err as Error)?.message ?? err).slice(0, 200)}` });
    }
  }
  return out;
}

export function best(sweepResult: readonly BatchTiming[]): BatchTiming | undefined {
  let top: BatchTiming | undefined;
  for (const s of sweepResult) if (s.imagesPerSecond !== undefined && (!top || s.imagesPerSecond > top.imagesPerSecond!)) top = s;
  return top;
}

/** maxRSS is in kilobytes on Linux. */
export function peakRssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
