import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { openDatabase } from '../../src/storage/database.js';
import { UsageRepository, type UsageRecord } from '../../src/storage/usage.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-cli-usage-'));
const pricesFile = path.join(dataDir, 'prices.json');

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[], extra: Record<string, string> = {}): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IMGSENSE_')));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      cwd: root, timeout: 60_000, env: { ...env, IMGSENSE_DATA_DIR: dataDir, IMGSENSE_PRICES_FILE: pricesFile, ...extra },
    }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

const oct = Date.UTC(2026, 9, 3, 12); // a month that has ended: its bills are complete
const rec = (i: number, appId: string, action: string, outcome: UsageRecord['outcome'] = 'success', createdAt = oct): UsageRecord => ({
  id: `id${i}`, requestId: `req${i}`, appId, secretId: null, action, units: 1, outcome, status: outcome === 'success' ? 200 : 400, latencyMs: 2, createdAt,
});

describe('imgsense usage and bill', () => {
  before(async () => {
    writeFileSync(pricesFile, JSON.stringify({ currency: 'EUR', actions: { 'images.info': { freePerMonth: 1, tiers: [{ pricePerThousand: 1000 }] } } }));
    const database = await openDatabase({ url: '', dataDir });
    await new UsageRepository(database).insertMany([
      rec(1, 'app_a', 'images.info'), rec(2, 'app_a', 'images.info'), rec(3, 'app_a', 'images.info', 'client_error'),
      rec(4, 'app_b', 'images.process', 'success', oct + 86_400_000), rec(5, 'app_b', 'images.info'),
    ]);
    await database.close();
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('usage: a table by action for every app, then by app and day for one range', async () => {
    const r = await cli(['usage', '--from', '2026-10-01', '--to', '2026-10-31']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^all apps, 2026-10-01T00:00:00\.000Z to 2026-11-01T00:00:00\.000Z$/);
    assert.match(lines[1]!, /^action\s+calls\s+units\s+ok\s+client err\s+server err\s+billable$/);
    assert.match(lines[2]!, /^images\.info\s+4\s+4\s+3\s+1\s+0\s+3$/);
    assert.match(lines[3]!, /^images\.process\s+1\s+1\s+1\s+0\s+0\s+1$/);
    assert.match(lines[4]!, /^total\s+5\s+5\s+4\s+1\s+0\s+4$/);

    const byDay = await cli(['usage', '--from', '2026-10-01', '--to', '2026-10-31', '--group-by', 'app,day', '--app', 'app_b', '--json']);
    assert.equal(byDay.code, 0, byDay.stderr);
    const report = JSON.parse(byDay.stdout) as { rows: { appId: string; day: string; calls: number }[] };
    assert.deepEqual(report.rows.map((x) => [x.day, x.appId, x.calls]), [['2026-10-03', 'app_b', 1], ['2026-10-04', 'app_b', 1]]);
  });

  it('usage --csv: every record, or the grouped rows', async () => {
    const raw = await cli(['usage', '--from', '2026-10-01', '--to', '2026-10-31', '--csv', '--app', 'app_a']);
    assert.equal(raw.code, 0, raw.stderr);
    const rows = raw.stdout.trim().split('\r\n');
    assert.equal(rows[0], 'created_at,request_id,app_id,secret_id,action,units,outcome,status,latency_ms');
    assert.deepEqual(rows.slice(1).map((l) => l.split(',')[1]).sort(), ['req1', 'req2', 'req3']);
    assert.equal(rows[3], '2026-10-03T12:00:00.000Z,req3,app_a,,images.info,1,client_error,400,2');
    const grouped = await cli(['usage', '--from', '2026-10-01', '--to', '2026-10-31', '--csv', '--group-by', 'app']);
    assert.equal(grouped.stdout, 'appId,calls,units,succeeded,clientErrors,serverErrors,billableUnits\r\napp_a,3,3,2,1,0,2\r\napp_b,2,2,2,0,0,2\r\n');
  });

  it('bill: every app and the total, or one app, priced from IMGSENSE_PRICES_FILE', async () => {
    const r = await cli(['bill', '2026-10']);
    assert.equal(r.code, 0, r.stderr);
    // app_a: 2 ok info, 1 free, 1 at 1.00 each; the failed one is listed, not charged.
    assert.match(r.stdout, /^app app_a {2}2026-10 {2}EUR\n/);
    assert.match(r.stdout, /\nimages\.info {2}call {6}3 {7}1 {6}2 {5}1 {9}1 {2}1 \(whole\) {4}1\.00\n/);
    // app_b: its one info call is free, and so is images.process under the default table's allowance.
    assert.match(r.stdout, /app app_b {2}2026-10 {2}EUR\n/);
    assert.match(r.stdout, /\n2026-10 total: 1\.00 EUR for 2 app\(s\)\n$/);
    const one = await cli(['bill', '2026-10', '--app', 'app_b', '--json']);
    const bills = JSON.parse(one.stdout) as { bills: { appId: string; lines: { action: string; amount: number }[]; total: number }[]; total: number };
    assert.deepEqual(bills.bills.map((b) => [b.appId, b.lines.map((l) => [l.action, l.amount])]), [['app_b', [['images.info', 0], ['images.process', 0]]]]);
    assert.equal(bills.total, 0);
  });

  it('mistakes exit 2 naming the flag; a bad price file names the file', async () => {
    const bad = await cli(['usage', '--from', 'last week']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Expected an ISO 8601 date\/time .* for --from but received "last week"/);
    const group = await cli(['usage', '--group-by', 'week']);
    assert.match(group.stderr, /Expected a comma-separated list of day, action, app for --group-by but received "week"/);
    const month = await cli(['bill', '2026-13']);
    assert.equal(month.code, 2);
    assert.match(month.stderr, /Expected a month as YYYY-MM for <YYYY-MM> but received "2026-13"/);
    assert.equal((await cli(['bill'])).code, 2);
    const prices = await cli(['bill', '2026-10'], { IMGSENSE_PRICES_FILE: path.join(dataDir, 'nope.json') });
    assert.equal(prices.code, 2);
    assert.match(prices.stderr, /invalid configuration: .*nope\.json/);
  });
});
