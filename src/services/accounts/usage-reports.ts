import type { PriceTable } from '../../config/prices.js';
import { invalidValue } from '../../errors/app-error.js';
import type { UsageAggregate, UsageDimension, UsageFilter, UsageRecord, UsageRepository } from '../../storage/usage.js';
import { computeBill, roundMoney, type Bill } from './billing.js';

/**
 * What the usage records say, for an app or for the operator: totals over a range, raw records as CSV, and
 * monthly bills. Parameters arrive as text (query string or command line) and are checked here, once, for both.
 */

export type UsageTotals = Omit<UsageAggregate, 'day' | 'action' | 'appId'>;

export interface UsageReport {
  /** Absent when the report covers every app. */
  appId?: string;
  from: string;
  to: string;
  groupBy: UsageDimension[];
  rows: UsageAggregate[];
  total: UsageTotals;
}

export interface AppBill extends Bill {
  appId: string;
  month: string;
  from: string;
  to: string;
  /** false while the month is still running: the bill so far. */
  complete: boolean;
}

export interface MonthBills {
  month: string;
  from: string;
  to: string;
  complete: boolean;
  currency: string;
  bills: AppBill[];
  total: number;
}

export interface ReportInput {
  appId?: string;
  from?: string;
  to?: string;
  groupBy?: string;
}

const dayMs = 86_400_000;
const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/;
const dateTime = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;
export const timeExpected = 'an ISO 8601 date/time such as 2026-11-01T08:30:00Z or a date YYYY-MM-DD (UTC)';
export const monthExpected = 'a month as YYYY-MM';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A `from` or `to` parameter as ms. A date alone is a whole UTC day: `from` its start, `to` its end (so
 * from=2026-11-01&to=2026-11-30 covers all of November); a date/time without an offset is UTC.
 */
export function parseInstant(param: 'from' | 'to', value: string): number {
  const day = dateOnly.exec(value);
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const ms = Date.UTC(y, m - 1, d);
    // Date.UTC rolls 2026-02-31 over into March: a date that does not round-trip does not exist.
    if (m < 1 || m > 12 || iso(ms).slice(0, 10) !== value) throw invalidValue(param, timeExpected, value);
    return param === 'to' ? ms + dayMs : ms;
  }
  const m = dateTime.exec(value);
  if (m) {
    const ms = Date.parse(m[8] ? value.replace(' ', 'T') : `${value.replace(' ', 'T')}Z`);
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const valid = Number.isFinite(ms) && mo >= 1 && mo <= 12 && iso(Date.UTC(y, mo - 1, d)).slice(0, 10) === `${m[1]}-${m[2]}-${m[3]}`
      && Number(m[4]) < 24 && Number(m[5]) < 60 && Number(m[6] ?? 0) < 60;
    if (valid) return ms;
  }
  throw invalidValue(param, timeExpected, value);
}

/** [from, to) in ms; by default from the start of the current UTC month until now. */
export function parseRange(from: string | undefined, to: string | undefined, now: number): { from: number; to: number } {
  const start = new Date(now);
  const range = {
    from: from === undefined || from === '' ? Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1) : parseInstant('from', from),
    to: to === undefined || to === '' ? now + 1 : parseInstant('to', to),
  };
  if (range.to <= range.from) throw invalidValue('to', `a time after from (${iso(range.from)})`, to ?? iso(range.to));
  return range;
}

/** `day`, `action`, `day,action` (and `app` where the operator asks across apps). */
export function parseGroupBy(value: string | undefined, allowed: readonly UsageDimension[]): UsageDimension[] {
  if (value === undefined || value.trim() === '') return ['action'];
  const parts = value.split(',').map((p) => p.trim());
  const expected = `a comma-separated list of ${allowed.join(', ')}`;
  if (parts.some((p) => !(allowed as readonly string[]).includes(p)) || new Set(parts).size !== parts.length) {
    throw invalidValue('groupBy', expected, value);
  }
  return parts as UsageDimension[];
}

/** A YYYY-MM month as the [from, to) range of its UTC days. */
export function parseMonth(value: string): { from: number; to: number } {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(value);
  if (!m) throw invalidValue('month', monthExpected, value);
  const [y, mo] = [Number(m[1]), Number(m[2])];
  return { from: Date.UTC(y, mo - 1, 1), to: Date.UTC(y, mo, 1) };
}

function totals(rows: readonly UsageAggregate[]): UsageTotals {
  const t: UsageTotals = { calls: 0, units: 0, succeeded: 0, clientErrors: 0, serverErrors: 0, billableUnits: 0 };
  for (const r of rows) {
    t.calls += r.calls;
    t.units += r.units;
    t.succeeded += r.succeeded;
    t.clientErrors += r.clientErrors;
    t.serverErrors += r.serverErrors;
    t.billableUnits += r.billableUnits;
  }
  return t;
}

/** One CSV field (RFC 4180); text that a spreadsheet would run as a formula is prefixed with a quote. */
function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const csvLine = (fields: (string | number | null | undefined)[]) => `${fields.map(csvField).join(',')}\r\n`;

export const recordColumns = ['created_at', 'request_id', 'app_id', 'secret_id', 'action', 'units', 'outcome', 'status', 'latency_ms'] as const;

export class UsageReports {
  constructor(
    private readonly usage: UsageRepository,
    readonly prices: PriceTable,
    private readonly now: () => number = Date.now,
  ) {}

  /** Totals for one app (input.appId) or every app, grouped as asked. */
  async report(input: ReportInput, allowed: readonly UsageDimension[] = ['day', 'action']): Promise<UsageReport> {
    const groupBy = parseGroupBy(input.groupBy, allowed);
    const filter = this.filter(input);
    const rows = await this.usage.aggregate(filter, groupBy);
    return { ...(input.appId !== undefined && { appId: input.appId }), from: iso(filter.from), to: iso(filter.to), groupBy, rows, total: totals(rows) };
  }

  /** The report's rows as CSV, one line per group. */
  static reportCsv(report: UsageReport): string {
    const metrics = ['calls', 'units', 'succeeded', 'clientErrors', 'serverErrors', 'billableUnits'] as const;
    const dims = report.groupBy.map((d) => (d === 'app' ? 'appId' : d)) as ('day' | 'action' | 'appId')[];
    return [csvLine([...dims, ...metrics]), ...report.rows.map((r) => csvLine([...dims.map((d) => r[d]), ...metrics.map((m) => r[m])]))].join('');
  }

  /** Every record in the range, as CSV lines (header first), streamed from the database a page at a time. */
  async *recordsCsv(input: Omit<ReportInput, 'groupBy'>): AsyncGenerator<string> {
    const filter = this.filter(input);
    yield csvLine([...recordColumns]);
    for await (const r of this.usage.scan(filter)) yield UsageReports.recordCsv(r);
  }

  /** Checks the range before a response starts streaming (a bad date must still be a clean 400). */
  checkRange(input: Omit<ReportInput, 'groupBy'>): void {
    this.filter(input);
  }

  static recordCsv(r: UsageRecord): string {
    return csvLine([iso(r.createdAt), r.requestId, r.appId, r.secretId, r.action, r.units, r.outcome, r.status, Math.round(r.latencyMs * 1000) / 1000]);
  }

  /** One app's itemised bill for a month. Failed calls are counted on the bill but never charged. */
  async bill(appId: string, month: string): Promise<AppBill> {
    const range = parseMonth(month);
    const rows = await this.usage.aggregate({ ...range, appId }, ['action']);
    return this.toBill(appId, month, range, rows);
  }

  /** Every app's bill for a month (apps with usage that month), or one app's (always listed), and the total. */
  async bills(month: string, appId?: string): Promise<MonthBills> {
    const range = parseMonth(month);
    const rows = await this.usage.aggregate(appId === undefined ? range : { ...range, appId }, ['app', 'action']);
    const apps = appId === undefined ? [...new Set(rows.map((r) => r.appId!))] : [appId];
    const bills = apps.map((app) => this.toBill(app, month, range, rows.filter((r) => r.appId === app)));
    return {
      month, from: iso(range.from), to: iso(range.to), complete: range.to <= this.now(), currency: this.prices.currency,
      bills, total: roundMoney(bills.reduce((s, b) => s + b.total, 0)),
    };
  }

  private toBill(appId: string, month: string, range: { from: number; to: number }, rows: readonly UsageAggregate[]): AppBill {
    const bill = computeBill(rows.map((r) => ({
      action: r.action!, calls: r.calls, failedCalls: r.calls - r.succeeded, successUnits: r.billableUnits,
    })), this.prices);
    return { appId, month, from: iso(range.from), to: iso(range.to), complete: range.to <= this.now(), ...bill };
  }

  private filter(input: Omit<ReportInput, 'groupBy'>): UsageFilter {
    const range = parseRange(input.from, input.to, this.now());
    return input.appId === undefined ? range : { ...range, appId: input.appId };
  }
}
