import type { Limits } from '../config/limits.js';
import { AppError } from '../errors/app-error.js';
import { describeImage, type ImageInfo } from '../imaging/info.js';
import { operationUnionSchema, outputSchema, type Operation, type OutputSpec } from '../imaging/operations.js';
import { runPipeline, type PipelineResult } from '../imaging/pipeline.js';
import { bytesOut } from '../observability/metrics.js';
import { openImageSource, type ImageSource } from './image-input.js';
import { Semaphore } from './semaphore.js';
import { validate } from './validate.js';
import type { CoreBudget } from './cpu-budget.js';

export interface ProcessingOptions {
  limits: Limits;
  fetchAllowHosts: readonly string[];
  concurrency: number;
  /** Shared with inference; image work draws `threadsPerImage` cores from it. */
  budget?: CoreBudget;
  threadsPerImage?: number;
}

export interface ProcessRequest {
  operations?: unknown;
  output?: unknown;
}

/** Checks operations and output against the published schemas; the result is what the imaging core runs. */
export function parseProcessRequest(body: ProcessRequest, limits: Limits, opts: { coerce?: boolean } = {}): { operations: Operation[]; output: OutputSpec } {
  const list = body.operations ?? [];
  if (!Array.isArray(list)) {
    throw new AppError('InvalidParameterValue', `Expected an array of at most ${limits.maxOperations} operations for operations but received ${typeof list}`);
  }
  if (list.length > limits.maxOperations) {
    throw new AppError('InvalidParameterValue', `Expected at most ${limits.maxOperations} items for operations but received ${list.length}`);
  }
  const operations = list.map((op, i) => validate<Operation>(operationUnionSchema, op, `operations[${i}]`, opts));
  const output = validate<OutputSpec>(outputSchema, body.output ?? {}, 'output', opts);
  return { operations, output };
}

/** Image processing and inspection: the gate, then the pipeline, at most `concurrency` images at once. */
export class ProcessingService {
  private readonly gate: Semaphore;

  constructor(private readonly opts: ProcessingOptions) {
    this.gate = new Semaphore(opts.concurrency);
  }

  get queued(): number {
    return this.gate.pending;
  }

  private cpu<T>(fn: () => Promise<T>): Promise<T> {
    return this.opts.budget ? this.opts.budget.run(this.opts.threadsPerImage ?? 1, fn, { overcommit: true }) : fn();
  }

  /** A bounded queue: past it, a client is better served by a quick 429 than by a timeout. */
  private refuseWhenSaturated(): void {
    if (this.gate.pending >= this.opts.limits.maxQueue) {
      throw new AppError('RequestLimitExceeded', `Expected at most ${this.opts.limits.maxQueue} requests waiting for image processing but received one more`, {
        headers: { 'Retry-After': '1' },
      });
    }
  }

  async process(source: ImageSource, body: ProcessRequest, opts: { coerce?: boolean; signal?: AbortSignal } = {}): Promise<PipelineResult> {
    const { operations, output } = parseProcessRequest(body, this.opts.limits, { coerce: opts.coerce ?? false });
    const deadline = Date.now() + this.opts.limits.processTimeoutMs;
    const probe = await openImageSource(source, this.opts, opts.signal);
    this.refuseWhenSaturated();
    const result = await this.gate.run(() => this.cpu(() => runPipeline({ probe, operations, output, limits: this.opts.limits, deadline })));
    bytesOut.inc(result.data.length);
    return result;
  }

  async info(source: ImageSource, opts: { includeGps: boolean }, signal?: AbortSignal): Promise<ImageInfo> {
    const probe = await openImageSource(source, this.opts, signal);
    this.refuseWhenSaturated();
    return this.gate.run(() => this.cpu(() => describeImage(probe, opts)));
  }
}
