import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startChildServer } from '../helpers/child-server.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases.js';

const adminKey = 'durability-admin-key-0123456789';

for (const { kind, skip } of await databaseKinds('storage: kill -9 durability')) {
  describe(`acknowledged writes survive kill -9 (${kind})`, { skip }, () => {
    let target: TestDatabase | undefined;
    after(() => target?.drop());

    it('every app the API answered 201 for is there after the server is killed mid-burst and restarted', async () => {
      target = await createTestDatabase(kind);
      const env = { IMGSENSE_DATA_DIR: target.dataDir, IMGSENSE_DATABASE_URL: target.url, IMGSENSE_ADMIN_KEY: adminKey };
      const first = await startChildServer(env);
      const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
      const acknowledged: string[] = [];
      let failed = 0;
      const create = async (i: number) => {
        try {
          const res = await fetch(`${first.url}/v1/admin/apps`, { method: 'POST', headers, body: JSON.stringify({ name: `burst-${i}` }) });
          if (res.status === 201) acknowledged.push(((await res.json()) as { appId: string }).appId);
        } catch {
          failed++; // cut off by the kill: not acknowledged, so no promise was made
        }
      };
      // Eight writers in parallel; the kill lands while writes are in flight.
      let next = 0;
      const writers = Array.from({ length: 8 }, async () => {
        while (next < 2000) await create(next++);
      });
      while (acknowledged.length < 60) await new Promise((r) => setTimeout(r, 5));
      first.child.kill('SIGKILL');
      await Promise.all(writers);
      await first.exit;
      assert.ok(failed > 0, 'the kill interrupted requests in flight');

      const second = await startChildServer(env);
      try {
        const res = await fetch(`${second.url}/v1/admin/apps`, { headers });
        const apps = ((await res.json()) as { apps: { appId: string }[] }).apps.map((a) => a.appId);
        const missing = acknowledged.filter((id) => !apps.includes(id));
        assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged apps lost`);
      } finally {
        second.child.kill('SIGTERM');
        await second.exit;
      }
    });
  });
}
