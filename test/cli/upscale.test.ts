import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { fixture } from '../helpers/fixtures.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'imgsense-cli-upscale-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IMGSENSE_')));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      cwd: root, timeout: 120_000, env: { ...clean, IMGSENSE_DATA_DIR: '.tmp/test-data', ...env },
    }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

test('imgsense upscale --scale 4 writes an image four times the size, whatever the threshold for jobs', async () => {
  const input = path.join(tmp, 'in.png');
  writeFileSync(input, await sharp(fixture('objects/dog.jpg')).resize(48, 40, { fit: 'cover' }).png().toBuffer());
  const out = path.join(tmp, 'sub', 'out.webp');
  const r = await cli(['upscale', input, '--scale', '4', '--model', 'slim', '--format', 'webp', '-o', out], { IMGSENSE_UPSCALE_SYNC_MAX_PIXELS: '0' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /48x40 -> 192x160 webp \(esrgan-slim x4, \d+ tiles\)/);
  const meta = await sharp(out).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 192, 160]);
});

test('imgsense upscale: a bad value is a usage error naming the parameter; the output limit names its variable', async () => {
  const input = path.join(tmp, 'in2.png');
  writeFileSync(input, await sharp(fixture('objects/dog.jpg')).resize(30, 30).png().toBuffer());
  const bad = await cli(['upscale', input, '--scale', '5', '-o', path.join(tmp, 'x.png')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Expected integer between 2 and 4 for scale but received 5/);
  const big = await cli(['upscale', input, '--scale', '4', '-o', path.join(tmp, 'y.png')], { IMGSENSE_UPSCALE_MAX_OUTPUT_PIXELS: '10000' });
  assert.equal(big.code, 1);
  assert.match(big.stderr, /FailedOperation\.UpscaleOutputTooLarge: .*IMGSENSE_UPSCALE_MAX_OUTPUT_PIXELS/);
  assert.doesNotMatch(bad.stderr + big.stderr, /\n\s+at /);
});
