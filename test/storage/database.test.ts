import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases.js';

for (const { kind, skip } of await databaseKinds('storage: migrations')) {
  describe(`storage on ${kind}`, { skip }, () => {
    let target: TestDatabase;
    let database: Database;
    before(async () => {
      target = await createTestDatabase(kind);
      database = await openDatabase({ url: target.url, dataDir: target.dataDir });
    });
    after(async () => {
      await database?.close();
      await target?.drop();
    });

    it('migrates to the latest schema, and again is a no-op', async () => {
      assert.equal(database.dialect, kind);
      const again = await openDatabase({ url: target.url, dataDir: target.dataDir });
      await again.close();
      const tables = (await database.db.introspection.getTables()).map((t) => t.name);
      for (const t of ['apps', 'app_keys', 'access_tokens', 'usage_records']) assert.ok(tables.includes(t), `${t} in ${tables}`);
    });

    it('reads millisecond timestamps back as numbers and enforces foreign keys', async () => {
      const now = Date.now();
      await database.db.insertInto('apps').values({ id: 'a1', name: 'n', status: 'active', scopes: '[]', limits: '{}', created_at: now, updated_at: now }).execute();
      const row = await database.db.selectFrom('apps').selectAll().where('id', '=', 'a1').executeTakeFirstOrThrow();
      assert.equal(row.created_at, now);
      await assert.rejects(database.db.insertInto('app_keys').values({
        secret_id: 'k', app_id: 'missing', secret_sealed: 'x', secret_hash: 'h', status: 'active', created_at: now, last_used_at: null,
      }).execute());
    });
  });
}
