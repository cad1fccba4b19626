import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { UsageRepository, type UsageOutcome, type UsageRecord } from '../../src/storage/usage.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases.js';

const day = 86_400_000;
const t0 = Date.UTC(2026, 10, 1); // 2026-11-01T00:00:00Z
let seq = 0;

function rec(appId: string, action: string, createdAt: number, outcome: UsageOutcome = 'success', units = 1): UsageRecord {
  seq++;
  return {
    id: `u${String(seq).padStart(6, '0')}`, requestId: `r${seq}`, appId, secretId: appId === 'a' ? 'AKIDa' : null, action, units,
    outcome, status: outcome === 'success' ? 200 : outcome === 'client_error' ? 400 : 500, latencyMs: 1.5, createdAt,
  };
}

for (const { kind, skip } of await databaseKinds('storage: usage records')) {
  describe(`usage repository on ${kind}`, { skip }, () => {
    let target: TestDatabase;
    let database: Database;
    let usage: UsageRepository;
    before(async () => {
      target = await createTestDatabase(kind);
      database = await openDatabase({ url: target.url, dataDir: target.dataDir });
      usage = new UsageRepository(database);
      await usage.insertMany([
        // app a, day 1: 2 ok process, 1 failed process, 1 ok info; the last millisecond of day 1
        rec('a', 'images.process', t0 + 1000),
        rec('a', 'images.process', t0 + 2000, 'success', 2.5),
        rec('a', 'images.process', t0 + 3000, 'client_error'),
        rec('a', 'images.info', t0 + day - 1),
        // app a, day 2 (its first millisecond), and a server error
        rec('a', 'images.info', t0 + day),
        rec('a', 'images.info', t0 + day + 5, 'server_error'),
        // app b, day 2
        rec('b', 'images.process', t0 + day + 10, 'success', 4),
        // outside the range used below (the next month)
        rec('a', 'images.process', t0 + 30 * day),
      ]);
    });
    after(async () => {
      await database?.close();
      await target?.drop();
    });

    const range = { from: t0, to: t0 + 30 * day };

    it('groups by UTC day, the day edges on the right side', async () => {
      const rows = await usage.aggregate({ ...range, appId: 'a' }, ['day']);
      assert.deepEqual(rows.map((r) => [r.day, r.calls, r.succeeded, r.clientErrors, r.serverErrors, r.units, r.billableUnits]), [
        ['2026-11-01', 4, 3, 1, 0, 5.5, 4.5],
        ['2026-11-02', 2, 1, 0, 1, 2, 1],
      ]);
    });

    it('groups by action, and by day and action; an app sees only its own records', async () => {
      const byAction = await usage.aggregate({ ...range, appId: 'a' }, ['action']);
      assert.deepEqual(byAction.map((r) => [r.action, r.calls, r.billableUnits]), [['images.info', 3, 2], ['images.process', 3, 3.5]]);
      const both = await usage.aggregate({ ...range, appId: 'a' }, ['day', 'action']);
      assert.deepEqual(both.map((r) => [r.day, r.action, r.calls]), [
        ['2026-11-01', 'images.info', 1], ['2026-11-01', 'images.process', 3], ['2026-11-02', 'images.info', 2],
      ]);
      const b = await usage.aggregate({ ...range, appId: 'b' }, ['action']);
      assert.deepEqual(b.map((r) => [r.action, r.calls, r.units]), [['images.process', 1, 4]]);
    });

    it('totals across apps, by app, and nothing for an empty range', async () => {
      const total = await usage.aggregate(range, []);
      assert.deepEqual(total.map((r) => [r.calls, r.units, r.billableUnits]), [[7, 11.5, 9.5]]);
      const byApp = await usage.aggregate(range, ['app', 'action']);
      assert.deepEqual(byApp.map((r) => [r.appId, r.action, r.calls]), [
        ['a', 'images.info', 3], ['a', 'images.process', 3], ['b', 'images.process', 1],
      ]);
      assert.deepEqual(await usage.aggregate({ from: t0 - day, to: t0 }, ['day']), []);
      assert.deepEqual(await usage.aggregate({ from: t0 - day, to: t0 }, []), []);
      assert.deepEqual(await usage.appsWithUsage(range), ['a', 'b']);
    });

    it('the range is [from, to): a record at `to` is left out', async () => {
      const rows = await usage.aggregate({ appId: 'a', from: t0, to: t0 + day }, []);
      assert.equal(rows[0]!.calls, 4);
      const edge = await usage.aggregate({ appId: 'a', from: t0 + day - 1, to: t0 + day + 1 }, []);
      assert.equal(edge[0]!.calls, 2);
    });

    it('scans raw records oldest first across pages, with every field as written', async () => {
      const all: UsageRecord[] = [];
      for await (const r of usage.scan({ ...range, appId: 'a' }, 2)) all.push(r);
      assert.equal(all.length, 6);
      assert.deepEqual(all.map((r) => r.createdAt), [...all.map((r) => r.createdAt)].sort((x, y) => x - y));
      assert.deepEqual(all[1], { id: all[1]!.id, requestId: all[1]!.requestId, appId: 'a', secretId: 'AKIDa', action: 'images.process', units: 2.5, outcome: 'success', status: 200, latencyMs: 1.5, createdAt: t0 + 2000 });
      const everyone: UsageRecord[] = [];
      for await (const r of usage.scan(range, 3)) everyone.push(r);
      assert.equal(everyone.length, 7);
      assert.equal(new Set(everyone.map((r) => r.id)).size, 7, 'no record twice across page edges');
    });

    it('keyset paging keeps records that share a millisecond', async () => {
      const same = Date.UTC(2025, 0, 1);
      await usage.insertMany([rec('c', 'x.y', same), rec('c', 'x.y', same), rec('c', 'x.y', same), rec('c', 'x.y', same)]);
      const seen: string[] = [];
      for await (const r of usage.scan({ appId: 'c', from: same, to: same + 1 }, 3)) seen.push(r.id);
      assert.equal(seen.length, 4);
      assert.equal(new Set(seen).size, 4);
    });

    it('countSince counts successful records since a moment, per action or all', async () => {
      assert.equal(await usage.countSince('a', undefined, t0), 5);
      assert.equal(await usage.countSince('a', 'images.process', t0), 3);
      assert.equal(await usage.countSince('a', 'images.info', t0 + day), 1);
      assert.equal(await usage.countSince('a', 'images.process', t0 + 30 * day + 1), 0);
      assert.equal(await usage.countSince('nobody', undefined, 0), 0);
    });

    it('insertMany is one transaction, and a retried batch is not stored twice', async () => {
      const batch = Array.from({ length: 250 }, (_, i) => rec('d', 'images.info', t0 + i));
      await usage.insertMany(batch);
      await usage.insertMany(batch.slice(100, 200)); // a retry of a batch whose commit was not confirmed
      assert.equal(await usage.countSince('d', undefined, 0), 250);
      // A bad row (null action) in the second chunk of a batch: the first chunk, already inserted, is rolled back.
      const bad = Array.from({ length: 150 }, (_, i) => rec('e', 'images.info', t0 + i));
      bad[120] = { ...bad[120]!, action: null as unknown as string };
      await assert.rejects(usage.insertMany(bad));
      assert.equal(await usage.countSince('e', undefined, 0), 0);
    });
  });
}
