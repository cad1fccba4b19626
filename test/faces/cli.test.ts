import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));
const out = mkdtempSync(path.join(tmpdir(), 'imgsense-faces-'));

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[]): Promise<Run> {
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IMGSENSE_'))), IMGSENSE_DATA_DIR: '.tmp/test-data' };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: root, timeout: 120_000, env }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

test('faces detect: human-readable by default, attributes on one line per face', async () => {
  const r = await cli(['faces', 'detect', path.join(fixtures, 'faces/single/happy.jpg'), '--attributes', 'age,gender,emotion']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /happy\.jpg: 1 face \(500x282\)/);
  assert.match(r.stdout, /^ {2}1\. \d+x\d+ at \d+,\d+ {2}score 0\.\d\d {2}age \d+ {2}female \(0\.\d\d\) {2}happy \(/m);
});

test('faces detect --json and --draw: the same fields as the API; the drawn image keeps the size', async () => {
  const drawn = path.join(out, 'bbt4-drawn.png');
  const r = await cli(['faces', 'detect', path.join(fixtures, 'faces/groups/bbt4.jpg'), '--json', '--draw', drawn]);
  assert.equal(r.code, 0, r.stderr);
  const body = JSON.parse(r.stdout) as { imageWidth: number; faces: unknown[] };
  assert.equal(body.faces.length, 6);
  const meta = await sharp(drawn).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 710, 473]);
});

test('faces detect on a folder: every image, a summary line, exit 0', async () => {
  const r = await cli(['faces', 'detect', path.join(fixtures, 'faces/none')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^5 images, 0 faces, 0 failed$/m);
  assert.match(r.stdout, /^eagle\.jpg: 0 faces/m);
});

test('faces: a bad value is a usage error in the services\' words; an unknown sub-command too', async () => {
  const bad = await cli(['faces', 'detect', path.join(fixtures, 'faces/single/happy.jpg'), '--attributes', 'age,mood']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /for attributes\[1\] but received "mood"/);
  const sub = await cli(['faces', 'find', 'x.jpg']);
  assert.equal(sub.code, 2);
  assert.match(sub.stderr, /expected the sub-command detect/);
});

test('segment: -o out.png --mode mask writes the 8-bit mask; cutout has alpha', async () => {
  const mask = path.join(out, 'mask.png');
  const r = await cli(['segment', path.join(fixtures, 'faces/padded/identities/amy/01.jpg'), '-o', mask, '--mode', 'mask']);
  assert.equal(r.code, 0, r.stderr);
  const m = await sharp(mask).metadata();
  assert.deepEqual([m.width, m.height, m.channels], [300, 300, 1]);
  const cut = path.join(out, 'cut.png');
  assert.equal((await cli(['segment', path.join(fixtures, 'faces/identities/amy/01.jpg'), '-o', cut])).code, 0);
  assert.equal((await sharp(cut).metadata()).hasAlpha, true);
  const bad = await cli(['segment', path.join(fixtures, 'faces/identities/amy/01.jpg'), '-o', cut, '--model', 'rvm']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /for model but received "rvm"/);
});
