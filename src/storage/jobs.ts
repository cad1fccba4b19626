import type { Kysely } from 'kysely';
import type { JobState } from '../jobs/queue.js';
import type { JobsTable, Tables } from './schema.js';

export interface JobRecord {
  id: string;
  appId: string;
  kind: string;
  state: JobState;
  params: Record<string, unknown>;
  tilesDone: number;
  tilesTotal: number;
  attempts: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  expiresAt: number | null;
  error: { code: string; message: string } | null;
  result: Record<string, unknown> | null;
}

/** PostgreSQL hands bigint back as a string (it may exceed 2^53); epoch ms never does. */
const ms = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

type Row = { [K in keyof JobsTable]: unknown };

function toRecord(r: Row): JobRecord {
  return {
    id: String(r.id),
    appId: String(r.app_id),
    kind: String(r.kind),
    state: r.state as JobState,
    params: JSON.parse(String(r.params)) as Record<string, unknown>,
    tilesDone: Number(r.tiles_done),
    tilesTotal: Number(r.tiles_total),
    attempts: Number(r.attempts),
    createdAt: ms(r.created_at)!,
    startedAt: ms(r.started_at),
    finishedAt: ms(r.finished_at),
    expiresAt: ms(r.expires_at),
    error: r.error_code ? { code: String(r.error_code), message: String(r.error_message ?? '') } : null,
    result: r.result ? (JSON.parse(String(r.result)) as Record<string, unknown>) : null,
  };
}

export interface FinishPatch {
  state: 'succeeded' | 'failed' | 'cancelled';
  finishedAt: number;
  expiresAt: number;
  error?: { code: string; message: string };
  result?: Record<string, unknown>;
}

/**
 * The jobs repository. State changes are conditional updates (`WHERE state = ...`), so that a cancel racing the
 * end of a run, or two workers of a shared database, settle on one outcome: the caller learns whether it won.
 */
export class JobRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  async insert(job: { id: string; appId: string; kind: string; params: Record<string, unknown>; tilesTotal: number; createdAt: number }): Promise<void> {
    await this.db.insertInto('jobs').values({
      id: job.id, app_id: job.appId, kind: job.kind, state: 'queued', params: JSON.stringify(job.params),
      tiles_total: job.tilesTotal, created_at: job.createdAt, started_at: null, finished_at: null, expires_at: null,
      error_code: null, error_message: null, result: null,
    }).execute();
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  async countActive(): Promise<number> {
    const row = await this.db.selectFrom('jobs').select((eb) => eb.fn.countAll().as('n')).where('state', 'in', ['queued', 'running']).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async queued(limit: number): Promise<JobRecord[]> {
    const rows = await this.db.selectFrom('jobs').selectAll().where('state', '=', 'queued').orderBy('created_at').orderBy('id').limit(limit).execute();
    return rows.map(toRecord);
  }

  async withState(state: JobState): Promise<JobRecord[]> {
    return (await this.db.selectFrom('jobs').selectAll().where('state', '=', state).execute()).map(toRecord);
  }

  /** queued -> running; false when someone else took it or it was cancelled meanwhile. */
  async claim(id: string, startedAt: number): Promise<boolean> {
    const r = await this.db.updateTable('jobs')
      .set((eb) => ({ state: 'running', started_at: startedAt, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id).where('state', '=', 'queued').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** running -> queued, for a job interrupted by a restart. */
  async requeue(id: string): Promise<void> {
    await this.db.updateTable('jobs').set({ state: 'queued' }).where('id', '=', id).where('state', '=', 'running').execute();
  }

  async progress(id: string, done: number): Promise<void> {
    await this.db.updateTable('jobs').set({ tiles_done: done }).where('id', '=', id).where('state', '=', 'running').execute();
  }

  /** Ends a job that is still queued or running; false when it had already ended (e.g. cancelled meanwhile). */
  async finish(id: string, patch: FinishPatch): Promise<boolean> {
    const r = await this.db.updateTable('jobs').set({
      state: patch.state,
      finished_at: patch.finishedAt,
      expires_at: patch.expiresAt,
      error_code: patch.error?.code ?? null,
      error_message: patch.error?.message ?? null,
      result: patch.result ? JSON.stringify(patch.result) : null,
    }).where('id', '=', id).where('state', 'in', ['queued', 'running']).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async expired(now: number): Promise<string[]> {
    const rows = await this.db.selectFrom('jobs').select('id').where('expires_at', '<=', now).execute();
    return rows.map((r) => r.id);
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('jobs').where('id', '=', id).execute();
  }
}
