import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fixture } from '../helpers/fixtures.js';
import { postForm } from '../helpers/server.js';
import { freePort, waitReady } from '../helpers/child-server.js';

test('SIGTERM: the in-flight request finishes, new requests are refused, the process exits 0', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    env: { ...process.env, PORT: String(port), IMGSENSE_DATA_DIR: '.tmp/shutdown-test', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  try {
    await waitReady(url);
    // The first start on a data dir writes the default app's credentials, as the README's quick start uses them.
    const { accessToken } = JSON.parse(readFileSync('.tmp/shutdown-test/credentials.json', 'utf8')) as { accessToken: string };
    // Heavy enough to still be running when the signal arrives.
    const slow = postForm(url, '/v1/images/process', fixture('formats/jpeg/baseline.jpg'), {
      operations: [{ op: 'rotate', angle: 33 }, { op: 'blur', sigma: 20 }, { op: 'rotate', angle: -33 }],
      output: { format: 'png' },
    }, { authorization: `Bearer ${accessToken}` });
    // Wait until the server has logged the incoming request, then signal.
    for (let i = 0; i < 100 && !log.includes('/v1/images/process'); i++) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    let late: number | string;
    try {
      const res = await fetch(`${url}/healthz`);
      late = res.status;
      if (res.status === 503) assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'ServiceUnavailable');
    } catch (err) {
      late = (err as { cause?: { code?: string } }).cause?.code ?? 'error';
    }
    assert.ok(late === 503 || late === 'ECONNREFUSED' || late === 'ECONNRESET', `a request after SIGTERM got ${late}`);
    const res = await slow;
    assert.equal(res.status, 200, 'the in-flight request completed');
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.ok((await res.arrayBuffer()).byteLength > 1000);
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, log);
    assert.match(log, /shutting down/);
    // Every log line is JSON, and request lines carry the request id.
    const lines = log.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(lines.filter((l) => l.req).every((l) => typeof l.requestId === 'string'));
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
