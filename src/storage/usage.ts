import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Database } from './database.js';
import type { Tables } from './schema.js';

export type UsageOutcome = 'success' | 'client_error' | 'server_error';

/** One metered line of one call. */
export interface UsageRecord {
  id: string;
  requestId: string;
  appId: string;
  secretId: string | null;
  action: string;
  units: number;
  outcome: UsageOutcome;
  status: number;
  latencyMs: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/** A time range [from, to) in ms, for one app or (appId absent) every app. */
export interface UsageFilter {
  from: number;
  to: number;
  appId?: string;
}

export type UsageDimension = 'day' | 'action' | 'app';

export interface UsageAggregate {
  /** YYYY-MM-DD (UTC), when grouped by day. */
  day?: string;
  action?: string;
  appId?: string;
  calls: number;
  /** Units of every call, failed ones included. */
  units: number;
  succeeded: number;
  clientErrors: number;
  serverErrors: number;
  /** Units of successful calls: what a bill counts. */
  billableUnits: number;
}

const dayMs = 86_400_000;
// A literal, not a parameter: integer division in both dialects (bigint / integer in PostgreSQL, INTEGER / INTEGER
// in SQLite, whereas better-sqlite3 would bind a JS number as REAL), and an expression PostgreSQL can match
// between SELECT and GROUP BY.
const dayBucket = sql<number>`created_at / ${sql.lit(dayMs)}`;
const dayOf = (bucket: number) => new Date(Number(bucket) * dayMs).toISOString().slice(0, 10);

const insertChunk = 100;

/** Usage records: written in batches by the meter, read by reports, bills, exports and quota counters. */
export class UsageRepository {
  constructor(private readonly database: Database) {}

  /**
   * Writes a batch in one transaction: all or nothing. Rows whose id is already stored are skipped, so the meter
   * may retry a batch whose commit it could not confirm (a dropped connection) without duplicating anything.
   */
  async insertMany(records: readonly UsageRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.database.db.transaction().execute(async (trx) => {
      for (let i = 0; i < records.length; i += insertChunk) {
        await trx.insertInto('usage_records').values(records.slice(i, i + insertChunk).map((r) => ({
          id: r.id, request_id: r.requestId, app_id: r.appId, secret_id: r.secretId, action: r.action, units: r.units,
          outcome: r.outcome, status: r.status, latency_ms: r.latencyMs, created_at: r.createdAt,
        }))).onConflict((oc) => oc.column('id').doNothing()).execute();
      }
    });
  }

  /** Totals over a range, grouped by any of day (UTC), action and app; rows ordered by those, in that order. */
  async aggregate(filter: UsageFilter, groupBy: readonly UsageDimension[]): Promise<UsageAggregate[]> {
    const byDay = groupBy.includes('day');
    const byAction = groupBy.includes('action');
    const byApp = groupBy.includes('app');
    let query = this.database.db.selectFrom('usage_records')
      .where((eb) => this.range(eb, filter))
      .select((eb) => [
        eb.fn.countAll<number>().as('calls'),
        eb.fn.coalesce(eb.fn.sum<number>('units'), sql.lit(0)).as('units'),
        sql<number>`sum(case when outcome = 'success' then 1 else 0 end)`.as('succeeded'),
        sql<number>`sum(case when outcome = 'client_error' then 1 else 0 end)`.as('client_errors'),
        sql<number>`sum(case when outcome = 'server_error' then 1 else 0 end)`.as('server_errors'),
        sql<number>`sum(case when outcome = 'success' then units else 0 end)`.as('billable_units'),
      ]);
    if (byDay) query = query.select(dayBucket.as('day')).groupBy(dayBucket).orderBy(dayBucket);
    if (byApp) query = query.select('app_id').groupBy('app_id').orderBy('app_id');
    if (byAction) query = query.select('action').groupBy('action').orderBy('action');
    const rows = await query.execute();
    return rows
      .filter((r) => Number(r.calls) > 0)
      .map((r) => {
        const row = r as typeof r & { day?: number; app_id?: string; action?: string };
        return {
          ...(byDay && { day: dayOf(row.day!) }),
          ...(byAction && { action: row.action! }),
          ...(byApp && { appId: row.app_id! }),
          calls: Number(r.calls),
          units: Number(r.units),
          succeeded: Number(r.succeeded),
          clientErrors: Number(r.client_errors),
          serverErrors: Number(r.server_errors),
          billableUnits: Number(r.billable_units),
        };
      });
  }

  /**
   * Every record in a range, oldest first, a page at a time (keyset on created_at, id), so an export of months
   * of records streams in bounded memory.
   */
  async *scan(filter: UsageFilter, pageSize = 1000): AsyncGenerator<UsageRecord> {
    let after: { createdAt: number; id: string } | undefined;
    for (;;) {
      const rows = await this.database.db.selectFrom('usage_records').selectAll()
        .where((eb) => {
          const conditions = [this.range(eb, filter)];
          if (after) {
            const { createdAt, id } = after;
            conditions.push(eb.or([eb('created_at', '>', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '>', id)])]));
          }
          return eb.and(conditions);
        })
        .orderBy('created_at').orderBy('id').limit(pageSize).execute();
      for (const r of rows) {
        yield {
          id: r.id, requestId: r.request_id, appId: r.app_id, secretId: r.secret_id, action: r.action, units: Number(r.units),
          outcome: r.outcome as UsageOutcome, status: Number(r.status), latencyMs: Number(r.latency_ms), createdAt: Number(r.created_at),
        };
      }
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1]!;
      after = { createdAt: Number(last.created_at), id: last.id };
    }
  }

  /**
   * Successful records of an app since a moment (of one action, or of every action): what the quota limiter
   * counts when it rebuilds its daily and monthly counters after a restart.
   */
  async countSince(appId: string, action: string | undefined, fromMs: number): Promise<number> {
    let query = this.database.db.selectFrom('usage_records')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('app_id', '=', appId).where('created_at', '>=', fromMs).where('outcome', '=', 'success');
    if (action !== undefined) query = query.where('action', '=', action);
    const row = await query.executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Distinct apps with records in a range (the operator's bills for a month). */
  async appsWithUsage(filter: Omit<UsageFilter, 'appId'>): Promise<string[]> {
    const rows = await this.database.db.selectFrom('usage_records').select('app_id').distinct()
      .where((eb) => this.range(eb, filter)).orderBy('app_id').execute();
    return rows.map((r) => r.app_id);
  }

  private range(eb: ExpressionBuilder<Tables, 'usage_records'>, filter: UsageFilter): Expression<SqlBool> {
    const conditions = [eb('created_at', '>=', filter.from), eb('created_at', '<', filter.to)];
    if (filter.appId !== undefined) conditions.unshift(eb('app_id', '=', filter.appId));
    return eb.and(conditions);
  }
}
