import type { Readable } from 'node:stream';
import { AppError } from '../errors/app-error.js';
import type { TileStore } from '../services/upscale.js';

/**
 * The job queue as the HTTP layer and the services see it. The embedded queue (./embedded.ts) keeps jobs in the
 * database and runs them in this process. A Redis-backed queue (BullMQ) for several workers would implement the
 * same interface: `submit` = store the input where every worker can read it (shared volume or object store),
 * insert the row and `queue.add(kind, { id })`; `get`/`cancel` read and update the same database row (cancel also
 * publishes the id so the worker holding the job aborts at its next tile); `openResult` streams from the shared
 * store; workers call the same handlers with a TileStore on shared storage, so a job moved to another worker
 * resumes from its last tile. Nothing here assumes one process beyond the embedded implementation itself.
 */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const jobStates: readonly JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
export type JobKind = 'upscale';

export interface JobResultInfo {
  format: string;
  width: number;
  height: number;
  bytes: number;
}

/** What a client sees of a job (timings as ISO 8601, null until they happen). */
export interface JobView {
  id: string;
  kind: JobKind;
  state: JobState;
  progress: { done: number; total: number };
  params: Record<string, unknown>;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** When a finished job and its result are deleted. */
  expiresAt: string | null;
  error: { code: string; message: string } | null;
  result: JobResultInfo | null;
}

export interface SubmitRequest {
  appId: string;
  kind: JobKind;
  params: Record<string, unknown>;
  /** The image as received; stored durably before submit resolves. */
  input: Buffer;
  /** Units of progress (tiles), known from the header. */
  total: number;
}

export interface JobResultStream {
  view: JobView;
  contentType: string;
  bytes: number;
  stream: Readable;
}

export interface JobQueue {
  /** Resolves once the job survives a crash (input on disk, fsync'd; row committed). */
  submit(req: SubmitRequest): Promise<JobView>;
  /** undefined when the job does not exist or belongs to another app. */
  get(appId: string, id: string): Promise<JobView | undefined>;
  /** The finished image; throws ResourceNotFound.Job, ResourceUnavailable.JobNotReady or .JobExpired. */
  openResult(appId: string, id: string): Promise<JobResultStream>;
  /** Cancels a queued or running job (a running one stops at its next tile); a finished job is left as it is. */
  cancel(appId: string, id: string): Promise<JobView | undefined>;
  /** Resumes interrupted jobs and starts working. */
  start(): Promise<void>;
  /** Stops taking work; running jobs stop at their next tile and stay resumable. */
  close(): Promise<void>;
}

/** What a job kind does with its input: the handler is given everything it needs, and reports progress. */
export interface JobContext {
  id: string;
  params: Record<string, unknown>;
  input: Buffer;
  tiles: TileStore;
  signal: AbortSignal;
  onProgress(done: number, total: number): void;
}

export interface JobOutput {
  data: Buffer;
  format: string;
  contentType: string;
  width: number;
  height: number;
}

export type JobHandler = (ctx: JobContext) => Promise<JobOutput>;

/** The one answer for a job that does not exist, belongs to another app, or has expired and been deleted. */
export function notFound(id: string): AppError {
  return new AppError('ResourceNotFound.Job', `Expected the id of a job of this app for id but received ${JSON.stringify(id)}, which does not exist (or has expired)`);
}
