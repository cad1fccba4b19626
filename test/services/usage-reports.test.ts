import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../src/errors/app-error.js';
import { parseGroupBy, parseInstant, parseMonth, parseRange, UsageReports } from '../../src/services/accounts/usage-reports.js';

const refused = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof AppError && e.code === 'InvalidParameterValue' && message.test(e.message));

describe('usage report parameters', () => {
  it('instants: dates are whole UTC days, date/times without an offset are UTC, offsets are honoured', () => {
    assert.equal(parseInstant('from', '2026-11-01'), Date.UTC(2026, 10, 1));
    assert.equal(parseInstant('to', '2026-11-30'), Date.UTC(2026, 11, 1));
    assert.equal(parseInstant('to', '2024-02-29'), Date.UTC(2024, 2, 1));
    assert.equal(parseInstant('from', '2026-11-01T08:30:00Z'), Date.UTC(2026, 10, 1, 8, 30));
    assert.equal(parseInstant('from', '2026-11-01T08:30'), Date.UTC(2026, 10, 1, 8, 30));
    assert.equal(parseInstant('from', '2026-11-01 08:30:05.250'), Date.UTC(2026, 10, 1, 8, 30, 5, 250));
    assert.equal(parseInstant('from', '2026-11-01T08:30:00+02:00'), Date.UTC(2026, 10, 1, 6, 30));
    for (const bad of ['2026-02-29', '2026-13-01', '2026-11-31', '2026-11-01T24:00:00Z', '2026-11-01T10:61Z', '1700000000000', 'now', '', '2026-11-01T08:30:00+2']) {
      assert.throws(() => parseInstant('from', bad), (e: unknown) => e instanceof AppError && e.message.endsWith(`for from but received ${JSON.stringify(bad)}`), bad);
    }
  });

  it('the default range is this UTC month until now; to must come after from', () => {
    const now = Date.UTC(2026, 10, 26, 3, 4, 5);
    assert.deepEqual(parseRange(undefined, undefined, now), { from: Date.UTC(2026, 10, 1), to: now + 1 });
    assert.deepEqual(parseRange('', '', now), { from: Date.UTC(2026, 10, 1), to: now + 1 });
    refused(() => parseRange('2026-11-02', '2026-11-01T23:59:59Z', now), /^Expected a time after from \(2026-11-02T00:00:00\.000Z\) for to but received "2026-11-01T23:59:59Z"$/);
    refused(() => parseRange('2026-12-01', undefined, now), /for to but received "2026-11-26T03:04:05\.001Z"$/);
    // A single day by its date, both ends.
    assert.deepEqual(parseRange('2026-11-05', '2026-11-05', now), { from: Date.UTC(2026, 10, 5), to: Date.UTC(2026, 10, 6) });
  });

  it('groupBy: a comma list of the allowed dimensions, no repeats; default action', () => {
    assert.deepEqual(parseGroupBy(undefined, ['day', 'action']), ['action']);
    assert.deepEqual(parseGroupBy('day, action', ['day', 'action']), ['day', 'action']);
    assert.deepEqual(parseGroupBy('app', ['day', 'action', 'app']), ['app']);
    refused(() => parseGroupBy('app', ['day', 'action']), /^Expected a comma-separated list of day, action for groupBy but received "app"$/);
    refused(() => parseGroupBy('day,day', ['day', 'action']), /received "day,day"/);
    refused(() => parseGroupBy('day,', ['day', 'action']), /received "day,"/);
  });

  it('months are YYYY-MM, as UTC ranges', () => {
    assert.deepEqual(parseMonth('2026-12'), { from: Date.UTC(2026, 11, 1), to: Date.UTC(2027, 0, 1) });
    for (const bad of ['2026-00', '2026-13', '2026-1', '26-11', '2026-11-01']) {
      refused(() => parseMonth(bad), new RegExp(`^Expected a month as YYYY-MM for month but received "${bad}"$`));
    }
  });

  it('CSV fields are quoted when needed and never start a spreadsheet formula', () => {
    const line = UsageReports.recordCsv({
      id: 'x', requestId: '-1+1', appId: 'app,"q"', secretId: null, action: 'images.info', units: 1.5, outcome: 'success', status: 200, latencyMs: 1.23456, createdAt: 0,
    });
    assert.equal(line, `1970-01-01T00:00:00.000Z,'-1+1,"app,""q""",,images.info,1.5,success,200,1.235\r\n`);
  });
});
