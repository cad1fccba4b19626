/** Messages between bench/inference.ts and its worker processes (bench/lib/inference-worker.ts). */
import type { SourceFormat } from '../../src/inference/registry.js';

export interface MeasureOptions {
  /** Timed runs wanted. */
  n: number;
  warmups: number;
  /** A measurement stops once it has spent this long and has minSamples runs. */
  budgetMs: number;
  minSamples: number;
}

export interface Timing {
  samples: number;
  warmups: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** The measurement stopped before n runs because it hit the time budget. */
  capped: boolean;
}

export interface BatchTiming {
  batch: number;
  timing?: Timing;
  imagesPerSecond?: number;
  /** Why the batch size was not measured (too slow for the budget, or the model refused it). */
  skipped?: string;
}

export interface OutputSample {
  name: string;
  dims: number[];
  data: Float32Array;
}

export interface OpTime {
  op: string;
  /** Mean microseconds per run spent in this op type's kernels. */
  usPerRun: number;
  share: number;
  nodes: number;
}

export interface Job {
  side: 'tfjs' | 'ort';
  id: string;
  source: { format: SourceFormat; file: string };
  /** ORT side: the converted model, its input name and where to dump the optimized model and profile. */
  onnxPath?: string;
  inputName?: string;
  optimizedPath?: string;
  profilePrefix?: string;
  /** maxBatch images, each perImage floats, already laid out as the model wants. */
  images: Float32Array;
  perImage: number;
  /** Shape of one image with the batch axis: [1, ...]. */
  shape: number[];
  batches: number[];
  threads: number[];
  measure: MeasureOptions;
  /** Runs of the profiled ORT session (0 disables profiling). */
  profileRuns: number;
  /** onnxruntime session config entries (SessionOptions.extra), e.g. { session: { intra_op: { allow_spinning: '0' } } }. */
  ortExtra?: Record<string, unknown>;
  /** graphOptimizationLevel of the ORT sessions ('all' in InferenceRuntime). */
  optLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

/** ORT side: the server's worker pool (lanes single-threaded workers) at each batch size. */
export interface PoolResult {
  lanes: number;
  threads: number;
  sweep: BatchTiming[];
}

export interface SideResult {
  side: 'tfjs' | 'ort';
  loadMs: number;
  /** b1 latency: key "tfjs" on the TF.js side, "1" / "2" (intra-op threads) on the ORT side. */
  latency: Record<string, Timing>;
  /** The batch sweep (ORT: with the most threads). */
  sweep: BatchTiming[];
  /** ORT: the same model through the server's worker pool. */
  pool?: PoolResult;
  outputs: OutputSample[];
  /** RSS after imports, before the model was loaded; the process's peak (maxRSS) after the batch-1 runs and after the batch sweep. */
  baseRssMB: number;
  peakRssB1MB: number;
  peakRssMB: number;
  /** CPU time of the whole worker (all threads), ms. */
  cpuMs: number;
  notes: string[];
  opTimes?: OpTime[];
  profileRunMs?: number;
  env?: Record<string, unknown>;
}

export type WorkerMessage = { type: 'result'; result: SideResult } | { type: 'error'; message: string; stack?: string };
