import { ConfigError, loadConfig } from '../config/env.js';
import { loadPrices } from '../config/prices.js';
import { AppError } from '../errors/app-error.js';
import type { AppBill, MonthBills, UsageReport } from '../services/accounts/usage-reports.js';
import { UsageReports } from '../services/accounts/usage-reports.js';
import { openDatabase, type Database } from '../storage/database.js';
import { UsageRepository } from '../storage/usage.js';
import { parseCommandLine, printError, UsageError, type FlagSpec } from './args.js';

export const usageUsage = `Usage: imgsense usage [--from <time>] [--to <time>] [--group-by <dims>] [--app <appId>] [--csv | --json]

Usage records from the configured database (IMGSENSE_DATABASE_URL / IMGSENSE_DATA_DIR), as the operator sees them.

Options:
  --from <time>       start, inclusive: ISO date/time (2026-11-01T08:00:00Z) or YYYY-MM-DD (UTC); default: this month
  --to <time>         end, exclusive (a date alone: the end of that day); default: now
  --group-by <dims>   any of day, action, app, comma-separated; default: action
  --app <appId>       one app; default: every app
  --csv               CSV: the grouped rows with --group-by, else every usage record
  --json              the report as JSON (as GET /v1/admin/usage answers)

Exit status: 0 printed, 1 the database failed, 2 usage error.
`;

export const billUsage = `Usage: imgsense bill <YYYY-MM> [--app <appId>] [--json]

Itemised bills for a month (UTC) from the usage records and the price table (IMGSENSE_PRICES_FILE or the defaults):
every app with usage that month and the total, or one app with --app. Failed calls are listed, never charged.

Exit status: 0 printed, 1 the database failed, 2 usage error.
`;

const usageSpec: FlagSpec = {
  from: { type: 'string' }, to: { type: 'string' }, 'group-by': { type: 'string' }, app: { type: 'string' },
  csv: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
};
const billSpec: FlagSpec = { app: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };

/** The service's messages name the HTTP parameters; on the command line they are flags. */
const flagNames: Record<string, string> = { from: '--from', to: '--to', groupBy: '--group-by', month: '<YYYY-MM>' };
function asFlags(message: string): string {
  return message.replace(/ for (from|to|groupBy|month) but /, (_m, p: string) => ` for ${flagNames[p]} but `);
}

/** Opens the database the server uses (migrating it like the server does), runs `work`, and closes it. */
async function withReports(command: string, work: (reports: UsageReports) => Promise<void>): Promise<number> {
  let database: Database;
  let reports: UsageReports;
  try {
    const config = loadConfig();
    const prices = loadPrices(config.usage.pricesFile);
    database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
    reports = new UsageReports(new UsageRepository(database), prices);
  } catch (err) {
    printError(`${command}: ${err instanceof ConfigError ? 'invalid configuration: ' : ''}${err instanceof Error ? err.message : String(err)}`);
    return err instanceof ConfigError ? 2 : 1;
  }
  try {
    await work(reports);
    return 0;
  } catch (err) {
    if (err instanceof AppError) {
      printError(`${command}: ${asFlags(err.message)}\nRun imgsense ${command} --help for usage.`);
      return 2;
    }
    printError(`${command}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await database.close();
  }
}

/** Left-aligned text, right-aligned numbers, two spaces between columns. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? String(Math.round(c * 1000) / 1000) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  // A column of numbers (a total row's blanks aside) is right-aligned.
  const isNumber = (c: string | number | undefined) => typeof c === 'number' || c === '' || /^-?\d+(\.\d+)?$/.test(String(c));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => isNumber(r[i])));
  return cells.map((r) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function formatReport(report: UsageReport): string {
  const dims = report.groupBy.map((d) => (d === 'app' ? 'appId' : d)) as ('day' | 'action' | 'appId')[];
  const metrics = ['calls', 'units', 'succeeded', 'clientErrors', 'serverErrors', 'billableUnits'] as const;
  const header = [...dims.map((d) => (d === 'appId' ? 'app' : d)), 'calls', 'units', 'ok', 'client err', 'server err', 'billable'];
  const rows = report.rows.map((r) => [...dims.map((d) => r[d] ?? ''), ...metrics.map((m) => r[m])]);
  if (rows.length > 0) rows.push([...dims.map((_, i) => (i === 0 ? 'total' : '')), ...metrics.map((m) => report.total[m])]);
  const scope = report.appId ? `app ${report.appId}` : 'all apps';
  return `${scope}, ${report.from} to ${report.to}\n${rows.length > 0 ? table(header, rows) : 'no usage records in this range\n'}`;
}

function formatBill(bill: AppBill): string {
  const head = `app ${bill.appId}  ${bill.month}${bill.complete ? '' : ' (so far)'}  ${bill.currency}\n`;
  if (bill.lines.length === 0) return `${head}no usage\n`;
  const rows: (string | number)[][] = bill.lines.map((l) => [
    l.action, l.unit, l.calls, l.failedCalls, l.units, l.freeUnits, l.billableUnits,
    l.tier ? `${l.tier.index} (${l.mode})` : l.priced ? '-' : 'unpriced', l.amount.toFixed(2),
  ]);
  rows.push(['total', '', '', '', '', '', '', '', bill.total.toFixed(2)]);
  return head + table(['action', 'unit', 'calls', 'failed', 'units', 'free', 'billable', 'tier', 'amount'], rows);
}

function formatBills(month: MonthBills): string {
  const bills = month.bills.map(formatBill).join('\n');
  return `${bills || `no usage in ${month.month}\n`}\n${month.month}${month.complete ? '' : ' (so far)'} total: ${month.total.toFixed(2)} ${month.currency} for ${month.bills.length} app(s)\n`;
}

export async function usageCommand(argv: string[]): Promise<number> {
  let flags: Record<string, string | true | undefined>;
  try {
    const args = parseCommandLine(argv, usageSpec);
    if (args.last.help) {
      process.stdout.write(usageUsage);
      return 0;
    }
    if (args.positionals.length > 0) throw new UsageError(`expected no arguments but received ${JSON.stringify(args.positionals[0])}`);
    if (args.last.csv && args.last.json) throw new UsageError('expected one of --csv or --json but received both');
    flags = args.last;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    printError(`usage: ${err.message}\nRun imgsense usage --help for usage.`);
    return 2;
  }
  const input = {
    ...(typeof flags.from === 'string' && { from: flags.from }),
    ...(typeof flags.to === 'string' && { to: flags.to }),
    ...(typeof flags['group-by'] === 'string' && { groupBy: flags['group-by'] }),
    ...(typeof flags.app === 'string' && { appId: flags.app }),
  };
  return withReports('usage', async (reports) => {
    if (flags.csv && input.groupBy === undefined) {
      reports.checkRange(input);
      for await (const line of reports.recordsCsv(input)) {
        if (!process.stdout.write(line)) await new Promise((r) => process.stdout.once('drain', r));
      }
      return;
    }
    const report = await reports.report(input, ['day', 'action', 'app']);
    process.stdout.write(flags.csv ? UsageReports.reportCsv(report) : flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  });
}

export async function billCommand(argv: string[]): Promise<number> {
  let month: string;
  let flags: Record<string, string | true | undefined>;
  try {
    const args = parseCommandLine(argv, billSpec);
    if (args.last.help) {
      process.stdout.write(billUsage);
      return 0;
    }
    if (args.positionals.length !== 1) throw new UsageError(`expected one month (YYYY-MM) but received ${args.positionals.length} arguments`);
    month = args.positionals[0]!;
    flags = args.last;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    printError(`bill: ${err.message}\nRun imgsense bill --help for usage.`);
    return 2;
  }
  return withReports('bill', async (reports) => {
    const bills = await reports.bills(month, typeof flags.app === 'string' ? flags.app : undefined);
    process.stdout.write(flags.json ? `${JSON.stringify(bills, null, 2)}\n` : formatBills(bills));
  });
}
