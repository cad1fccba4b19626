import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderBar } from '../../src/cli/progress.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));
const manifest: { files: { path: string; width?: number; height?: number }[] } = JSON.parse(readFileSync(path.join(fixtures, 'manifest.json'), 'utf8'));
const entry = (p: string) => manifest.files.find((f) => f.path === p) ?? assert.fail(`${p} is not in the manifest`);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'imgsense-cli-process-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Run { code: number; stdout: string; stderr: string }

/** The real CLI in a child process, with no operator limits from the caller's environment unless given. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IMGSENSE_')));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: root, timeout: 120_000, env: { ...clean, ...env } }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

async function size(file: string): Promise<{ width: number; height: number; format: string }> {
  const r = await cli(['info', '--json', file]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const noStack = (r: Run) => assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'a stack trace was printed');

test('a single file: resize to webp writes a WebP of the asked width', async () => {
  const src = 'objects/dog.jpg';
  const { width, height } = entry(src);
  const out = path.join(tmp, 'dog-small.webp');
  const r = await cli(['process', path.join(fixtures, src), '-o', out, '--resize', '200x', '--format', 'webp']);
  assert.equal(r.code, 0, r.stderr);
  const bytes = readFileSync(out);
  assert.equal(bytes.subarray(0, 4).toString('latin1'), 'RIFF');
  assert.equal(bytes.subarray(8, 12).toString('latin1'), 'WEBP');
  const info = await size(out);
  assert.equal(info.format, 'webp');
  assert.equal(info.width, 200);
  assert.equal(info.height, Math.round((height! * 200) / width!));
});

test('a single file into an existing folder takes the input name and the output format extension', async () => {
  const dir = path.join(tmp, 'single-into-dir');
  mkdirSync(dir);
  const r = await cli(['process', path.join(fixtures, 'formats/png/palette.png'), '-o', dir, '--format', 'jpeg', '--grayscale']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(dir), ['palette.jpg']);
  assert.deepEqual([...readFileSync(path.join(dir, 'palette.jpg')).subarray(0, 3)], [0xff, 0xd8, 0xff]);
});

test('flags run in command-line order: rotate then resize differs from resize then rotate', async () => {
  const src = path.join(fixtures, 'objects/dog.jpg');
  const { width, height } = entry('objects/dog.jpg');
  assert.ok(width! > height!, 'the fixture should be landscape');
  const a = path.join(tmp, 'rotate-first.png');
  const b = path.join(tmp, 'resize-first.png');
  const ra = await cli(['process', src, '-o', a, '--rotate', '90', '--resize', '100x']);
  const rb = await cli(['process', src, '-o', b, '--resize', '100x', '--rotate', '90']);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);
  const sa = await size(a);
  const sb = await size(b);
  // Rotated first: portrait, then 100 wide. Resized first: 100 wide landscape, then turned to portrait.
  assert.deepEqual([sa.width, sa.height], [100, Math.round((width! * 100) / height!)]);
  assert.deepEqual([sb.width, sb.height], [Math.round((height! * 100) / width!), 100]);
});

test('--ops appends operations verbatim, in place among the flags', async () => {
  const out = path.join(tmp, 'ops.png');
  const r = await cli(['process', path.join(fixtures, 'objects/dog.jpg'), '-o', out, '--ops', '[{"op":"rotate","angle":90}]', '--resize', '100x', '--ops', '[{"op":"crop","width":50,"height":40,"x":0,"y":0}]']);
  assert.equal(r.code, 0, r.stderr);
  const s = await size(out);
  assert.deepEqual([s.width, s.height], [50, 40]);
});

test('a folder of good and bad files: failures counted and named, good outputs written, exit 1', async () => {
  const inDir = path.join(tmp, 'mixed-in');
  const outDir = path.join(tmp, 'mixed-out');
  mkdirSync(path.join(inDir, 'sub'), { recursive: true });
  const good = ['objects/dog.jpg', 'formats/png/palette.png', 'formats/webp/lossy.webp', 'formats/gif/static-photo.gif'];
  const bad = ['bad/empty.jpg', 'bad/text-named.jpg', 'bad/truncated.png', 'bad/png-bomb-65535x65535.png'];
  for (const f of [...good, ...bad]) copyFileSync(path.join(fixtures, f), path.join(inDir, path.basename(f)));
  copyFileSync(path.join(fixtures, 'objects/kite.jpg'), path.join(inDir, '.hidden.jpg'));
  copyFileSync(path.join(fixtures, 'objects/eagle.jpg'), path.join(inDir, 'sub', 'eagle.jpg'));

  const r = await cli(['process', inDir, '-o', outDir, '--resize', '64x64', '--format', 'webp']);
  assert.equal(r.code, 1, r.stderr);
  noStack(r);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^processed 8 files, 4 failed, \d+ bytes in, \d+ bytes out, saved -?\d+\.\d%$/);
  const [, bytesIn, bytesOut] = /(\d+) bytes in, (\d+) bytes out/.exec(lines[0]!)!.map(Number);
  const goodBytes = good.reduce((n, f) => n + readFileSync(path.join(fixtures, f)).length, 0);
  assert.equal(bytesIn, goodBytes, 'bytes in counts the files that were processed');
  for (const f of bad) {
    const name = path.basename(f);
    assert.ok(lines.some((l) => l.startsWith(`${name}: `) && /: [A-Za-z.]+: .+/.test(l)), `${name} is not listed as failed:\n${r.stdout}`);
  }
  assert.ok(lines.some((l) => l === 'empty.jpg: FailedOperation.EmptyImageError: Expected a non-empty image for image but received 0 bytes'));
  assert.ok(lines.some((l) => l.startsWith('png-bomb-65535x65535.png: FailedOperation.ImageResolutionExceed: ')));
  const written = readdirSync(outDir).sort();
  assert.deepEqual(written, ['dog.webp', 'lossy.webp', 'palette.webp', 'static-photo.webp'], 'hidden files and sub-folders are skipped');
  let total = 0;
  for (const name of written) {
    const bytes = readFileSync(path.join(outDir, name));
    total += bytes.length;
    assert.equal(bytes.subarray(8, 12).toString('latin1'), 'WEBP');
  }
  assert.equal(bytesOut, total);

  const rec = await cli(['process', inDir, '-o', path.join(tmp, 'mixed-rec'), '--recursive', '--resize', '64x', '--format', 'png']);
  assert.equal(rec.code, 1);
  assert.match(rec.stdout, /^processed 9 files, 4 failed/);
  assert.ok(existsSync(path.join(tmp, 'mixed-rec', 'sub', 'eagle.png')));
});

test('a folder of good files only exits 0; clashing names keep their whole name', async () => {
  const inDir = path.join(tmp, 'good-in');
  mkdirSync(inDir);
  copyFileSync(path.join(fixtures, 'formats/jpeg/baseline.jpg'), path.join(inDir, 'a.jpg'));
  copyFileSync(path.join(fixtures, 'formats/png/palette.png'), path.join(inDir, 'a.png'));
  const outDir = path.join(tmp, 'good-out', 'nested');
  const r = await cli(['process', inDir, '-o', outDir, '--format', 'webp', '--quality', '50']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^processed 2 files, 0 failed, /);
  assert.deepEqual(readdirSync(outDir).sort(), ['a.jpg.webp', 'a.png.webp']);
});

test('usage errors exit 2 with a clear message and no stack trace', async () => {
  const src = path.join(fixtures, 'objects/dog.jpg');
  const out = path.join(tmp, 'never.webp');
  const cases: [string[], RegExp][] = [
    [['process', src, '-o', out, '--resize', 'abc'], /Expected WIDTHxHEIGHT.*--resize but received "abc"/],
    [['process', src, '-o', out, '--crop', '10x10+5'], /--crop but received "10x10\+5"/],
    [['process', src, '-o', out, '--rotate', 'left'], /Expected a number for --rotate but received "left"/],
    [['process', src, '--resize', '10x'], /-o <out> is required/],
    [['process', src, '-o', out, '--bogus'], /Unknown option '--bogus'/],
    [['process', src, '-o', out, '--fit', 'cover'], /--fit and --enlarge modify --resize/],
    [['process', src, '-o', out, '--ops', '{"op":"blur"}'], /JSON array of operations for --ops/],
    [['process', src, '-o', out, '--quality', '120'], /InvalidParameterValue: Expected integer between 1 and 100 for output\.quality but received 120/],
    [['process', src, '-o', out, '--ops', '[{"op":"swirl"}]'], /UnsupportedOperation: .*operations\[0\]\.op/],
  ];
  const runs = await Promise.all(cases.map(([args]) => cli(args)));
  for (const [i, [args, message]] of cases.entries()) {
    const r = runs[i]!;
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    noStack(r);
  }
  assert.equal(existsSync(out), false);
});

test('a file the services refuse: code and message, exit 1; operator limits from the environment apply', async () => {
  const src = path.join(fixtures, 'objects/dog.jpg');
  const r = await cli(['process', src, '-o', path.join(tmp, 'limited.jpg')], { IMGSENSE_MAX_WIDTH: '500' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^imgsense: ${src.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: FailedOperation\\.ImageResolutionExceed: Expected width at most 500`));
  noStack(r);
  const text = path.join(tmp, 'not-an-image.jpg');
  writeFileSync(text, 'hello');
  const r2 = await cli(['process', text, '-o', path.join(tmp, 'x.jpg')]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /FailedOperation\.ImageDecodeFailed: /);
});

test('--help prints the usage', async () => {
  const r = await cli(['process', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: imgsense process <in> -o <out>/);
  assert.match(r.stdout, /--resize WxH/);
});

test('the progress bar', () => {
  assert.equal(renderBar(0, 40, 10), '[>         ] 0/40 files');
  assert.equal(renderBar(12, 40, 10), '[===>      ] 12/40 files');
  assert.equal(renderBar(40, 40, 10), '[==========] 40/40 files');
});
