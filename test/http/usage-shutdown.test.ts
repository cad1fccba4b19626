import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fixture } from '../helpers/fixtures.js';
import { postForm } from '../helpers/server.js';

async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  s.close();
  return port;
}

async function start(dataDir: string): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IMGSENSE_')));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    // A flush interval far longer than the test: only the shutdown can have written the lines.
    env: { ...env, PORT: String(port), IMGSENSE_DATA_DIR: dataDir, IMGSENSE_AUTH: 'off', IMGSENSE_USAGE_FLUSH_MS: '60000', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => { log += d; });
  child.stderr!.on('data', (d) => { log += d; });
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited: ${log}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return { child, url, log: () => log };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`server did not become ready: ${log}`);
}

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
    const [code] = await once(server.child, 'exit');
    assert.equal(code, 0, server.log());

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
    if (server.child.exitCode === null) await once(server.child, 'exit');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
