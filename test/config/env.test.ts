import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, limitVariables, loadConfig } from '../../src/config/env.js';
import { defaultLimits } from '../../src/config/limits.js';

test('defaults: 127.0.0.1:8080, ./data, info, the limits object', () => {
  const c = loadConfig({}, '/srv/app');
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8080);
  assert.equal(c.dataDir, path.resolve('/srv/app/data'));
  assert.equal(c.logLevel, 'info');
  assert.deepEqual(c.limits, { ...defaultLimits });
  assert.deepEqual(c.fetchAllowHosts, []);
});

test('the operator can raise and lower limits', () => {
  const c = loadConfig({ IMGSENSE_MAX_PIXELS: '400000000', IMGSENSE_MAX_FRAMES: '5', IMGSENSE_FETCH_ALLOW_HOSTS: '127.0.0.1, images.internal,10.0.0.0/8' });
  assert.equal(c.limits.maxPixels, 400_000_000);
  assert.equal(c.limits.maxFrames, 5);
  assert.deepEqual(c.fetchAllowHosts, ['127.0.0.1', 'images.internal', '10.0.0.0/8']);
});

test('a bad value names the variable, what is allowed and what it got', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'http' }, /Expected integer between 0 and 65535 for PORT but received "http"/],
    [{ PORT: '70000' }, /for PORT but received "70000"/],
    [{ LOG_LEVEL: 'loud' }, /Expected one of fatal, error, warn, info, debug, trace, silent for LOG_LEVEL but received "loud"/],
    [{ IMGSENSE_MAX_WIDTH: '-5' }, /for IMGSENSE_MAX_WIDTH but received "-5"/],
    [{ IMGSENSE_MAX_PIXELS: '1.5' }, /for IMGSENSE_MAX_PIXELS but received "1.5"/],
    [{ IMGSENSE_MAX_IMAGE_BYTES: '100', IMGSENSE_MAX_BODY_BYTES: '50' }, /IMGSENSE_MAX_BODY_BYTES/],
    [{ HOST: 'bad host!' }, /for HOST but received "bad host!"/],
    [{ IMGSENSE_FETCH_ALLOW_HOSTS: 'ok.example,evil host' }, /IMGSENSE_FETCH_ALLOW_HOSTS/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
  }
});

test('docs/configuration.md documents every variable the server reads, and no other', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!));
  const source = readFileSync(new URL('../../src/config/env.ts', import.meta.url), 'utf8');
  const read = new Set([
    ...Object.values(limitVariables),
    ...[...source.matchAll(/env(?:\.|, ')([A-Z][A-Z_]+)/g)].map((m) => m[1]!),
    'UV_THREADPOOL_SIZE',
  ]);
  for (const v of read) assert.ok(documented.has(v), `${v} is read but not documented`);
  for (const v of documented) assert.ok(read.has(v), `${v} is documented but not read`);
});

test('the server refuses to start on a bad value, naming the variable', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    env: { ...process.env, PORT: 'eighty', IMGSENSE_DATA_DIR: '.tmp/cfg-test' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Expected integer between 0 and 65535 for PORT but received "eighty"/);
});
