import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

test('IMGSENSE_WARM_MODELS: the server converts and loads the models before it reports ready', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-warm-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    env: { ...process.env, PORT: '0', IMGSENSE_DATA_DIR: dir, IMGSENSE_WARM_MODELS: 'emotion,nsfw-mobilenet-v2', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  try {
    for (let i = 0; i < 600 && !log.includes('imgsense ready'); i++) await new Promise((r) => setTimeout(r, 100));
    const ready = log.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'imgsense ready');
    assert.ok(ready, log);
    assert.deepEqual(ready.warmed, ['emotion', 'nsfw-mobilenet-v2']);
    const files = readdirSync(path.join(dir, 'models'));
    assert.ok(files.some((f) => /^emotion\.[0-9a-f]{16}\.onnx$/.test(f)), files.join(', '));
    assert.ok(files.some((f) => /^nsfw-mobilenet-v2\.[0-9a-f]{16}\.onnx$/.test(f)));
    const port = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(log)?.[1];
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
});
