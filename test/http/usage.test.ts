import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsageRepository, type UsageRecord } from '../../src/storage/usage.js';
import { fixture } from '../helpers/fixtures.js';
import { postForm, postJson, startServer, type ErrorBody, type TestServer } from '../helpers/server.js';

interface Totals { calls: number; units: number; succeeded: number; clientErrors: number; serverErrors: number; billableUnits: number }
interface Report { appId?: string; from: string; to: string; groupBy: string[]; rows: (Totals & { day?: string; action?: string; appId?: string })[]; total: Totals }

const png = fixture('formats/png/rgb8.png');
// startServer's shared data dir (keys, credentials.json); `serve` creates it, the test helper does not.
mkdirSync('.tmp/test-data', { recursive: true });
const csvRows = (text: string) => text.trim().split('\r\n').map((l) => l.split(','));

/**
 * The app that IMGSENSE_AUTH=off serves calls as ('default', or the default app's id once the accounts layer
 * names it): the report says whose it is.
 */
async function openAppId(server: TestServer): Promise<string> {
  return ((await (await fetch(`${server.url}/v1/usage`)).json()) as Report).appId!;
}

describe('metering of API calls', () => {
  let server: TestServer;
  let appId: string;
  before(async () => {
    server = await startServer({ IMGSENSE_USAGE_FLUSH_MS: '60000' });
    appId = await openAppId(server);
  });
  after(async () => { await server.close(); });

  it('each call to a metered route writes one line with its outcome; failures are not billable', async () => {
    const ok = await postForm(server.url, '/v1/images/info', png);
    assert.equal(ok.status, 200);
    const bad = await postForm(server.url, '/v1/images/info', Buffer.from('not an image at all'));
    assert.equal(bad.status, 400);
    const processed = await postForm(server.url, '/v1/images/process', png, { operations: [{ op: 'resize', width: 10 }] });
    assert.equal(processed.status, 200);
    await processed.arrayBuffer();
    // Routes without an action (health, the usage report itself) write nothing.
    await fetch(`${server.url}/healthz`);
    await fetch(`${server.url}/v1/usage`);
    await server.services.usageMeter.flush();

    const res = await fetch(`${server.url}/v1/usage?groupBy=action`);
    assert.equal(res.status, 200);
    const report = (await res.json()) as Report;
    assert.equal(report.appId, appId);
    assert.deepEqual(report.rows.map((r) => [r.action, r.calls, r.succeeded, r.clientErrors, r.billableUnits]), [
      ['images.info', 2, 1, 1, 1], ['images.process', 1, 1, 0, 1],
    ]);
    assert.deepEqual(report.total, { calls: 3, units: 3, succeeded: 2, clientErrors: 1, serverErrors: 0, billableUnits: 2 });

    // The raw records: the response's request id, the status, the outcome.
    const csv = await fetch(`${server.url}/v1/usage?format=csv`);
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    assert.equal(csv.headers.get('content-disposition'), `attachment; filename="usage-${appId}.csv"`);
    const [header, ...lines] = csvRows(await csv.text());
    assert.deepEqual(header, ['created_at', 'request_id', 'app_id', 'secret_id', 'action', 'units', 'outcome', 'status', 'latency_ms']);
    const failed = lines.find((l) => l[1] === bad.headers.get('x-request-id'));
    assert.ok(failed, 'the failed call has a record under its request id');
    assert.deepEqual([failed[2], failed[4], failed[5], failed[6], failed[7]], [appId, 'images.info', '1', 'client_error', '400']);
    assert.ok(Number(failed[8]) >= 0);
    assert.ok(lines.some((l) => l[1] === ok.headers.get('x-request-id') && l[6] === 'success'));
  });

  it('groups by day, by day and action; CSV by Accept; an aggregate CSV with groupBy', async () => {
    // The expected days come from the stored records themselves, not from the clock (a run may span midnight).
    const raw = csvRows(await (await fetch(`${server.url}/v1/usage?format=csv`)).text()).slice(1);
    const count = (keys: string[]) => [...keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>())].sort();
    const byDay = (await (await fetch(`${server.url}/v1/usage?groupBy=day`)).json()) as Report;
    assert.deepEqual(byDay.rows.map((r) => [r.day, r.calls]), count(raw.map((l) => l[0]!.slice(0, 10))));
    const today = raw[0]![0]!.slice(0, 10);
    const both = (await (await fetch(`${server.url}/v1/usage?groupBy=day,action&from=${today}&to=${today}`)).json()) as Report;
    assert.deepEqual(both.rows.map((r) => [`${r.day} ${r.action}`, r.calls]),
      count(raw.filter((l) => l[0]!.startsWith(today)).map((l) => `${today} ${l[4]}`)));
    assert.equal(both.from, `${today}T00:00:00.000Z`);
    assert.equal(new Date(both.to).getTime() - new Date(both.from).getTime(), 86_400_000, 'a date alone as to: the whole day');

    const byAccept = await fetch(`${server.url}/v1/usage`, { headers: { accept: 'text/csv' } });
    assert.equal(csvRows(await byAccept.text()).length, 4, 'header and three records');
    const aggregate = await fetch(`${server.url}/v1/usage?format=csv&groupBy=action`);
    assert.deepEqual(csvRows(await aggregate.text()), [
      ['action', 'calls', 'units', 'succeeded', 'clientErrors', 'serverErrors', 'billableUnits'],
      ['images.info', '2', '2', '1', '1', '0', '1'],
      ['images.process', '1', '1', '1', '0', '0', '1'],
    ]);
    // A range before any use is empty, not an error.
    const empty = (await (await fetch(`${server.url}/v1/usage?from=2020-01-01&to=2020-01-31`)).json()) as Report;
    assert.deepEqual([empty.rows, empty.total.calls], [[], 0]);
  });

  it('bad parameters are 400 envelopes naming the parameter, what is allowed and what was received', async () => {
    const cases: [string, string, RegExp][] = [
      ['from=yesterday', 'InvalidParameterValue', /^Expected an ISO 8601 date\/time .* or a date YYYY-MM-DD \(UTC\) for from but received "yesterday"$/],
      ['to=2026-02-31', 'InvalidParameterValue', /for to but received "2026-02-31"$/],
      ['from=2026-11-01T25:00:00Z', 'InvalidParameterValue', /for from but received "2026-11-01T25:00:00Z"$/],
      ['from=2026-11-10&to=2026-11-01T00:00:00Z', 'InvalidParameterValue', /^Expected a time after from \(2026-11-10T00:00:00\.000Z\) for to but received "2026-11-01T00:00:00Z"$/],
      ['groupBy=week', 'InvalidParameterValue', /^Expected a comma-separated list of day, action for groupBy but received "week"$/],
      ['groupBy=app', 'InvalidParameterValue', /for groupBy but received "app"$/],
      ['format=xml', 'InvalidParameterValue', /for format but received "xml"$/],
      ['group_by=day', 'InvalidParameter', /group_by/],
    ];
    for (const [query, code, message] of cases) {
      const res = await fetch(`${server.url}/v1/usage?${query}`, { headers: { accept: 'text/csv' } });
      const body = (await res.json()) as ErrorBody;
      assert.equal(res.status, 400, query);
      assert.equal(body.error.code, code, `${query}: ${body.error.message}`);
      assert.match(body.error.message, message, query);
      assert.equal(res.headers.get('content-disposition'), null, `${query}: an error is not a CSV attachment`);
    }
  });

  it('admin usage needs the admin key, and totals across apps', async () => {
    const none = await fetch(`${server.url}/v1/admin/usage`);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as ErrorBody).error.code, 'AuthFailure.InvalidAuthorization');
    const wrong = await fetch(`${server.url}/v1/admin/usage?groupBy=bogus`, { headers: { authorization: 'Bearer not-the-admin-key' } });
    assert.equal(wrong.status, 403, 'refused before the query is validated');
    assert.equal(((await wrong.json()) as ErrorBody).error.code, 'UnauthorizedOperation');

    const repo = new UsageRepository(server.services.database);
    const now = Date.now();
    await repo.insertMany([record('app_other', 'vision.objects', now, 'success', 1)]);
    const admin = { authorization: `Bearer ${server.adminKey}` };
    const all = (await (await fetch(`${server.url}/v1/admin/usage?groupBy=app`, { headers: admin })).json()) as Report;
    assert.equal(all.appId, undefined);
    assert.deepEqual(all.rows.map((r) => [r.appId, r.calls]), [['app_other', 1], [appId, 3]].sort());
    const one = (await (await fetch(`${server.url}/v1/admin/usage?appId=app_other&groupBy=action`, { headers: admin })).json()) as Report;
    assert.deepEqual(one.rows.map((r) => [r.action, r.calls]), [['vision.objects', 1]]);
    // The app's own report never shows another app's records.
    const own = (await (await fetch(`${server.url}/v1/usage`)).json()) as Report;
    assert.ok(own.rows.every((r) => r.action !== 'vision.objects'));
  });
});

let seq = 0;
function record(appId: string, action: string, createdAt: number, outcome: UsageRecord['outcome'], units: number): UsageRecord {
  seq++;
  return { id: `seed-${seq}`, requestId: `seed-${seq}`, appId, secretId: null, action, units, outcome, status: outcome === 'success' ? 200 : 400, latencyMs: 1, createdAt };
}

describe('billing', () => {
  let server: TestServer;
  let appId: string;
  const october = Date.UTC(2026, 9, 15);
  before(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-prices-'));
    const file = path.join(dir, 'prices.json');
    writeFileSync(file, JSON.stringify({
      currency: 'EUR',
      actions: {
        // 2 free, then 1-10 at 100/thousand (0.1 each), above at 50/thousand, whole month at the tier reached.
        'vision.objects': { freePerMonth: 2, mode: 'whole', tiers: [{ upTo: 10, pricePerThousand: 100 }, { pricePerThousand: 50 }] },
        'images.upscale': { unit: 'megapixel', mode: 'progressive', tiers: [{ upTo: 10, pricePerThousand: 1000 }, { pricePerThousand: 500 }] },
      },
    }));
    server = await startServer({ IMGSENSE_PRICES_FILE: file });
    appId = await openAppId(server);
    const repo = new UsageRepository(server.services.database);
    const rows: UsageRecord[] = [];
    for (let i = 0; i < 14; i++) rows.push(record(appId, 'vision.objects', october + i, 'success', 1));
    for (let i = 0; i < 5; i++) rows.push(record(appId, 'vision.objects', october, 'client_error', 1)); // not billed
    rows.push(record(appId, 'vision.objects', october, 'server_error', 1)); // not billed
    rows.push(record(appId, 'images.upscale', october, 'success', 8), record(appId, 'images.upscale', october, 'success', 4.5));
    rows.push(record(appId, 'images.info', Date.UTC(2026, 10, 1), 'success', 1)); // November: not on October's bill
    rows.push(record('app_b', 'vision.objects', october, 'success', 3));
    await repo.insertMany(rows);
  });
  after(async () => { await server.close(); });

  it('itemises the month: units, billable units, tier reached, amount, currency, total; failed calls not billed', async () => {
    const res = await fetch(`${server.url}/v1/billing/2026-10`);
    assert.equal(res.status, 200);
    const bill = (await res.json()) as { appId: string; month: string; complete: boolean; currency: string; total: number; lines: Record<string, unknown>[] };
    assert.deepEqual([bill.appId, bill.month, bill.currency, bill.complete], [appId, '2026-10', 'EUR', true]);
    assert.deepEqual(bill.lines, [
      // 12.5 MP: 10 at 1.0 + 2.5 at 0.5 = 11.25
      { action: 'images.upscale', unit: 'megapixel', calls: 2, failedCalls: 0, units: 12.5, freeUnits: 0, billableUnits: 12.5, mode: 'progressive', tier: { index: 2, upTo: null, pricePerThousand: 500 }, amount: 11.25, priced: true },
      // 14 ok - 2 free = 12 billable > 10: all 12 at 50/thousand = 0.6
      { action: 'vision.objects', unit: 'call', calls: 20, failedCalls: 6, units: 14, freeUnits: 2, billableUnits: 12, mode: 'whole', tier: { index: 2, upTo: null, pricePerThousand: 50 }, amount: 0.6, priced: true },
    ]);
    assert.equal(bill.total, 11.85);
  });

  it('a month without usage is an empty bill; a bad month is a 400 envelope', async () => {
    const empty = (await (await fetch(`${server.url}/v1/billing/2020-01`)).json()) as { lines: unknown[]; total: number };
    assert.deepEqual([empty.lines, empty.total], [[], 0]);
    for (const month of ['2026-13', '2026-1', 'october', '2026-10-01']) {
      const res = await fetch(`${server.url}/v1/billing/${month}`);
      const body = (await res.json()) as ErrorBody;
      assert.equal(res.status, 400, month);
      assert.equal(body.error.code, 'InvalidParameterValue');
      assert.equal(body.error.message, `Expected a month as YYYY-MM for month but received "${month}"`);
    }
  });

  it("the operator sees every app's bill and the total, or one app's; only with the admin key", async () => {
    assert.equal((await fetch(`${server.url}/v1/admin/billing/2026-10`)).status, 401);
    const admin = { authorization: `Bearer ${server.adminKey}` };
    const all = (await (await fetch(`${server.url}/v1/admin/billing/2026-10`, { headers: admin })).json()) as { total: number; bills: { appId: string; total: number }[] };
    // app_b: 3 calls, 2 free, 1 at 0.1
    assert.deepEqual(all.bills.map((b) => [b.appId, b.total]), [['app_b', 0.1], [appId, 11.85]].sort());
    assert.equal(all.total, 11.95);
    const one = (await (await fetch(`${server.url}/v1/admin/billing/2026-10?appId=app_b`, { headers: admin })).json()) as { bills: { appId: string }[] };
    assert.deepEqual(one.bills.map((b) => b.appId), ['app_b']);
    const unknown = (await (await fetch(`${server.url}/v1/admin/billing/2026-10?appId=app_none`, { headers: admin })).json()) as { bills: { lines: unknown[] }[]; total: number };
    assert.deepEqual([unknown.bills[0]!.lines, unknown.total], [[], 0]);
  });

  it('the routes are in the OpenAPI document with every error response', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    for (const p of ['/v1/usage', '/v1/admin/usage', '/v1/billing/{month}', '/v1/admin/billing/{month}']) {
      const op = doc.paths[p]?.get;
      assert.ok(op, `${p} missing`);
      for (const s of ['200', '400', '401', '403']) assert.ok(op.responses[s], `${p} lacks ${s}`);
    }
    assert.ok(JSON.stringify(doc.paths['/v1/usage']).includes('text/csv'));
  });
});

describe('metering with authentication on', () => {
  it('a call refused before any app is known is not recorded', async () => {
    const server = await startServer({ IMGSENSE_AUTH: 'on', IMGSENSE_USAGE_FLUSH_MS: '60000' });
    try {
      // No credentials: refused by the accounts layer, or (without it) served with no principal; no app either way.
      await postJson(server.url, '/v1/images/info', { image: png.toString('base64') });
      await server.services.usageMeter.flush();
      const repo = new UsageRepository(server.services.database);
      assert.deepEqual(await repo.aggregate({ from: 0, to: Date.now() + 1 }, []), []);
      assert.equal(server.services.usageMeter.backlog, 0);
    } finally {
      await server.close();
    }
  });
});
