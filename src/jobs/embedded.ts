import { randomUUID } from 'node:crypto';
import { AppError } from '../errors/app-error.js';
import { jobsFinished } from '../observability/metrics.js';
import type { JobRecord, JobRepository } from '../storage/jobs.js';
import type { JobFiles } from './files.js';
import { notFound, type JobHandler, type JobKind, type JobQueue, type JobResultStream, type JobView, type SubmitRequest } from './queue.js';

export interface EmbeddedQueueOptions {
  repo: JobRepository;
  files: JobFiles;
  handlers: Record<JobKind, JobHandler>;
  /** Jobs run at once in this process. */
  concurrency: number;
  /** How long a finished job (and its result) is kept. */
  resultTtlMs: number;
  /** Jobs queued or running at once; more are refused with 429. */
  maxQueued: number;
  /** How often expired jobs are deleted; default a quarter of the TTL, between 1 s and 1 min. */
  sweepEveryMs?: number;
  /** A job interrupted this many times (crashes mid-run) is failed instead of resumed again. */
  maxAttempts?: number;
  log?: { info(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/** Thrown into a running job when it is cancelled; the row is already 'cancelled'. */
class Cancelled extends Error {
  override name = 'Cancelled';
}

/** Thrown into a running job when the process shuts down; the row stays 'running' and is resumed at next start. */
class ShuttingDown extends Error {
  override name = 'ShuttingDown';
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The default queue: rows in the database, files on local disk, work in this process. At start, jobs left
 * 'running' by a crash go back to 'queued' and resume from their last finished tile (the handler reads the
 * tiles back); a job whose input is gone, or that keeps crashing the process, is failed with the reason.
 */
export class EmbeddedJobQueue implements JobQueue {
  private readonly running = new Map<string, { controller: AbortController; done: number; total: number; settled: Promise<void> }>();
  private started = false;
  private closed = false;
  private sweeper: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private repump = false;

  constructor(private readonly opts: EmbeddedQueueOptions) {}

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const maxAttempts = this.opts.maxAttempts ?? 3;
    for (const job of await this.opts.repo.withState('running')) {
      const input = await this.opts.files.readInput(job.id);
      if (!input) {
        await this.fail(job.id, 'The server restarted while the job ran and its input could not be read back; submit it again');
      } else if (job.attempts >= maxAttempts) {
        await this.fail(job.id, `The job was interrupted ${job.attempts} times (the server stopped while it ran); submit it again`);
      } else {
        await this.opts.repo.requeue(job.id);
        this.opts.log?.info({ jobId: job.id, attempts: job.attempts }, 'resuming job interrupted by a restart');
      }
    }
    const every = this.opts.sweepEveryMs ?? Math.max(1000, Math.min(60_000, this.opts.resultTtlMs / 4));
    this.sweeper = setInterval(() => void this.sweep().catch((err: unknown) => this.opts.log?.error({ err }, 'job expiry sweep failed')), every);
    this.sweeper.unref();
    await this.sweep();
    this.pump();
  }

  async submit(req: SubmitRequest): Promise<JobView> {
    if (this.closed) throw new AppError('ServiceUnavailable', 'The server is shutting down; retry on another instance');
    const active = await this.opts.repo.countActive();
    if (active >= this.opts.maxQueued) {
      throw new AppError('RequestLimitExceeded.Jobs', `Expected at most ${this.opts.maxQueued} jobs queued or running (IMGSENSE_JOB_MAX_QUEUED) but received one more`, {
        headers: { 'Retry-After': '10' },
      });
    }
    const id = randomUUID();
    // The input is on disk, fsync'd, before the row exists: a row never points at a missing input.
    await this.opts.files.writeInput(id, req.input);
    const createdAt = Date.now();
    await this.opts.repo.insert({ id, appId: req.appId, kind: req.kind, params: req.params, tilesTotal: req.total, createdAt });
    this.pump();
    return this.view((await this.opts.repo.get(id))!);
  }

  private async owned(appId: string, id: string): Promise<JobRecord | undefined> {
    const job = await this.opts.repo.get(id);
    return job && job.appId === appId ? job : undefined;
  }

  async get(appId: string, id: string): Promise<JobView | undefined> {
    const job = await this.owned(appId, id);
    return job && this.view(job);
  }

  async openResult(appId: string, id: string): Promise<JobResultStream> {
    const job = await this.owned(appId, id);
    if (!job) throw notFound(id);
    if (job.expiresAt !== null && job.expiresAt <= Date.now()) {
      throw new AppError('ResourceUnavailable.JobExpired', `Expected a job finished less than ${this.opts.resultTtlMs / 1000} s ago (IMGSENSE_JOB_RESULT_TTL_SECONDS) for ${id} but it finished at ${iso(job.finishedAt)}`);
    }
    if (job.state !== 'succeeded') {
      throw new AppError('ResourceUnavailable.JobNotReady', `Expected a succeeded job for ${id} but its state is ${job.state}`);
    }
    const file = await this.opts.files.openResult(id);
    if (!file) throw notFound(id);
    const result = job.result as { contentType?: string } | null;
    return { view: this.view(job), contentType: result?.contentType ?? 'application/octet-stream', bytes: file.bytes, stream: file.stream };
  }

  async cancel(appId: string, id: string): Promise<JobView | undefined> {
    const job = await this.owned(appId, id);
    if (!job) return undefined;
    const now = Date.now();
    if (await this.opts.repo.finish(id, { state: 'cancelled', finishedAt: now, expiresAt: now + this.opts.resultTtlMs })) {
      const run = this.running.get(id);
      if (run) {
        run.controller.abort(new Cancelled('cancelled'));
        await run.settled;
      } else {
        jobsFinished.inc({ kind: job.kind, state: 'cancelled' });
        await this.opts.files.removeWork(id);
      }
    }
    return this.view((await this.opts.repo.get(id))!);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const run of this.running.values()) run.controller.abort(new ShuttingDown('shutting down'));
    await Promise.all([...this.running.values()].map((r) => r.settled));
    await this.pumping;
  }

  /** Deletes finished jobs past their time: files, then the row. */
  async sweep(now = Date.now()): Promise<number> {
    const ids = await this.opts.repo.expired(now);
    for (const id of ids) {
      await this.opts.files.remove(id);
      await this.opts.repo.delete(id);
    }
    return ids.length;
  }

  /** Starts queued jobs while there are free slots; one pump at a time, re-run when asked meanwhile. */
  private pump(): void {
    if (!this.started || this.closed) return;
    if (this.pumping) {
      this.repump = true;
      return;
    }
    this.pumping = (async () => {
      do {
        this.repump = false;
        const free = this.opts.concurrency - this.running.size;
        if (free <= 0) break;
        for (const job of await this.opts.repo.queued(free)) {
          if (this.closed) break;
          if (await this.opts.repo.claim(job.id, Date.now())) this.launch(job);
        }
      } while (this.repump && !this.closed);
    })().catch((err: unknown) => this.opts.log?.error({ err }, 'job queue pump failed')).finally(() => {
      this.pumping = undefined;
    });
  }

  private launch(job: JobRecord): void {
    const controller = new AbortController();
    const entry = { controller, done: 0, total: job.tilesTotal, settled: Promise.resolve() };
    this.running.set(job.id, entry);
    entry.settled = this.execute(job, entry).finally(() => {
      this.running.delete(job.id);
      this.pump();
    });
  }

  private async execute(job: JobRecord, entry: { controller: AbortController; done: number; total: number }): Promise<void> {
    const { repo, files } = this.opts;
    let lastWrite = 0;
    try {
      const input = await files.readInput(job.id);
      if (!input) throw new Error('input missing');
      const handler = this.opts.handlers[job.kind as JobKind];
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      const out = await handler({
        id: job.id,
        params: job.params,
        input,
        tiles: files.tiles(job.id),
        signal: entry.controller.signal,
        onProgress: (done, total) => {
          entry.done = done;
          entry.total = total;
          // The tiles on disk are what resume reads; the row's count is for other processes, so it may lag.
          const now = Date.now();
          if (done === total || now - lastWrite > 250) {
            lastWrite = now;
            void repo.progress(job.id, done).catch(() => undefined);
          }
        },
      });
      await files.writeResult(job.id, out.data);
      await repo.progress(job.id, entry.total);
      const now = Date.now();
      const result = { format: out.format, contentType: out.contentType, width: out.width, height: out.height, bytes: out.data.length };
      if (await repo.finish(job.id, { state: 'succeeded', finishedAt: now, expiresAt: now + this.opts.resultTtlMs, result })) {
        jobsFinished.inc({ kind: job.kind, state: 'succeeded' });
        await files.removeWork(job.id);
      }
    } catch (err) {
      const reason = entry.controller.signal.reason as unknown;
      if (reason instanceof ShuttingDown) return; // stays 'running': resumed at the next start
      if (reason instanceof Cancelled) {
        jobsFinished.inc({ kind: job.kind, state: 'cancelled' });
        await files.removeWork(job.id);
        return;
      }
      if (err instanceof AppError) {
        await this.fail(job.id, err.message, err.code);
      } else {
        this.opts.log?.error({ err, jobId: job.id }, 'job failed');
        await this.fail(job.id, 'The job failed because of a fault on the server; the log has the details under this job id');
      }
    }
  }

  private async fail(id: string, message: string, code = 'InternalError'): Promise<void> {
    const now = Date.now();
    if (await this.opts.repo.finish(id, { state: 'failed', finishedAt: now, expiresAt: now + this.opts.resultTtlMs, error: { code, message } })) {
      jobsFinished.inc({ kind: 'upscale', state: 'failed' });
    }
    await this.opts.files.removeWork(id);
  }

  private view(job: JobRecord): JobView {
    const live = this.running.get(job.id);
    const result = job.result as { format: string; width: number; height: number; bytes: number } | null;
    return {
      id: job.id,
      kind: job.kind as JobKind,
      state: job.state,
      progress: { done: live && job.state === 'running' ? live.done : job.tilesDone, total: job.tilesTotal },
      params: job.params,
      createdAt: iso(job.createdAt)!,
      startedAt: iso(job.startedAt),
      finishedAt: iso(job.finishedAt),
      expiresAt: iso(job.expiresAt),
      error: job.error,
      result: result && { format: result.format, width: result.width, height: result.height, bytes: result.bytes },
    };
  }
}
