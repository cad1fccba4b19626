import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, copyFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'imgsense-cli-vision-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[]): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IMGSENSE_')));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: root, timeout: 180_000, env: { ...clean, IMGSENSE_DATA_DIR: '.tmp/test-data' } }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

test('detect: human-readable lines, --json as the API answers, --draw writes the image with the boxes', async () => {
  const file = path.join(fixtures, 'objects/person.jpg');
  const text = await cli(['detect', file]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /person\.jpg:\n {2}person +0\.\d\d +x=\d+ y=\d+ w=\d+ h=\d+/);
  const out = path.join(tmp, 'boxes.png');
  const json = await cli(['detect', file, '--json', '--top-k', '2', '--classes', 'person,dog', '--draw', out]);
  assert.equal(json.code, 0, json.stderr);
  const r = JSON.parse(json.stdout) as { objects: { name: string }[]; imageWidth: number };
  assert.ok(r.objects.length >= 1 && r.objects.length <= 2 && r.objects.every((o) => ['person', 'dog'].includes(o.name)));
  const drawn = await sharp(out).metadata();
  assert.deepEqual([drawn.format, drawn.width, drawn.height], ['png', 640, 424]);
  // the boxes are drawn: the drawn image differs from the photo
  const [a, b] = await Promise.all([sharp(out).raw().toBuffer(), sharp(file).raw().toBuffer()]);
  let changed = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > 60) changed++;
  assert.ok(changed > 1000, `${changed} bytes changed`);
});

test('labels and moderate on a folder: one JSON line per file, failures reported, exit 1 when some failed', async () => {
  const dir = path.join(tmp, 'photos');
  mkdirSync(dir);
  copyFileSync(path.join(fixtures, 'objects/giraffe.jpg'), path.join(dir, 'a.jpg'));
  copyFileSync(path.join(fixtures, 'formats/webp/animated-loop-3.webp'), path.join(dir, 'b.webp'));
  copyFileSync(path.join(fixtures, 'bad/truncated-40pct.jpg'), path.join(dir, 'c.jpg'));
  const labels = await cli(['labels', dir, '--json', '--lang', 'zh']);
  assert.equal(labels.code, 1, labels.stderr);
  const lines = labels.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; labels?: { name: string }[]; error?: { code: string } });
  assert.deepEqual(lines.map((l) => path.basename(l.file)), ['a.jpg', 'b.webp', 'c.jpg']);
  assert.ok(lines[0]!.labels!.some((l) => l.name === '长颈鹿'));
  assert.equal(lines[2]!.error!.code, 'FailedOperation.ImageDecodeFailed');
  const moderate = await cli(['moderate', dir]);
  assert.equal(moderate.code, 1);
  assert.match(moderate.stdout, /a\.jpg:\n {2}Pass: neutral \d/);
  assert.match(moderate.stdout, /b\.webp:\n {2}Pass: drawing [\d.]+%.*frames 0,2,5,7,9 of 10 judged, worst \d/);
  assert.match(moderate.stdout, /3 files, 1 failed/);
  assert.deepEqual(readdirSync(dir).sort(), ['a.jpg', 'b.webp', 'c.jpg'], 'nothing written into the input folder');
});

test('a bad flag value is a usage error (exit 2) in the API\'s words, before any file is read', async () => {
  const r = await cli(['detect', 'missing.jpg', '--top-k', '500']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Expected integer between 1 and 100 for top_k but received 500/);
  const m = await cli(['moderate', 'missing.jpg', '--model', 'x']);
  assert.equal(m.code, 2);
  const help = await cli(['labels', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--lang en\|zh/);
});
