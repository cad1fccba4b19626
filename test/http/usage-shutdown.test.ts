import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fixture } from '../helpers/fixtures.js';
import { postForm } from '../helpers/server.js';
import { startChildServer } from '../helpers/child-server.js';

/** A flush interval far longer than the test: only the shutdown can have written the lines. */
const start = (dataDir: string) => startChildServer({ IMGSENSE_DATA_DIR: dataDir, IMGSENSE_AUTH: 'off', IMGSENSE_USAGE_FLUSH_MS: '60000', LOG_LEVEL: 'warn' });

test('SIGTERM after a burst of metered calls: every answered call has its usage line after a restart', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-usage-shutdown-'));
  const png = fixture('formats/png/rgb8.png');
  let server = await start(dataDir);
  try {
    const calls = Array.from({ length: 60 }, (_, i) =>
      postForm(server.url, '/v1/images/info', i % 10 === 9 ? Buffer.from('garbage') : png, {}, { 'x-request-id': `burst-${i}` }));
    const answered = await Promise.all(calls.map(async (c) => {
      const res = await c;
      await res.arrayBuffer();
      return { id: res.headers.get('x-request-id')!, status: res.status };
    }));
    assert.equal(answered.filter((a) => a.status === 200).length, 54);
    assert.equal(answered.filter((a) => a.status === 400).length, 6);

    server.child.kill('SIGTERM');
    assert.equal(await server.exit, 0, server.log());

    server = await start(dataDir);
    const csv = await (await fetch(`${server.url}/v1/usage?format=csv&from=2000-01-01`)).text();
    const rows = csv.trim().split('\r\n').slice(1).map((l) => l.split(','));
    const byId = new Map(rows.map((r) => [r[1]!, r]));
    for (const a of answered) {
      const row = byId.get(a.id);
      assert.ok(row, `usage line of ${a.id} missing after restart`);
      assert.equal(row[7], String(a.status));
      assert.equal(row[6], a.status === 200 ? 'success' : 'client_error');
    }
    assert.equal(rows.length, answered.length, 'one line per call, none twice');
  } finally {
    server.child.kill('SIGTERM');
    await server.exit;
    rmSync(dataDir, { recursive: true, force: true });
  }
});
