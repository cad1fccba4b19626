import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));
interface Entry { path: string; format?: string; width?: number; height?: number; orientation?: number; oriented_width?: number; oriented_height?: number }
const manifest: { files: Entry[] } = JSON.parse(readFileSync(path.join(fixtures, 'manifest.json'), 'utf8'));

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[]): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IMGSENSE_')));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: root, timeout: 60_000, env }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

const rotated = manifest.files.filter((f) => f.path.startsWith('formats/jpeg/exif-orientation/') && f.orientation === 6);

test('info --json: EXIF orientation 6 and the swapped oriented size', async () => {
  assert.ok(rotated.length >= 2, 'the manifest should list orientation-6 fixtures');
  for (const f of rotated) {
    const r = await cli(['info', '--json', path.join(fixtures, f.path)]);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.format, 'jpeg');
    assert.equal(info.orientation, 6);
    assert.deepEqual([info.width, info.height], [f.width, f.height]);
    assert.deepEqual([info.orientedWidth, info.orientedHeight], [f.oriented_width, f.oriented_height]);
    assert.deepEqual([info.orientedWidth, info.orientedHeight], [f.height, f.width], 'orientation 6 swaps width and height');
  }
});

test('info without --json prints key: value lines', async () => {
  const f = rotated[0]!;
  const r = await cli(['info', path.join(fixtures, f.path)]);
  assert.equal(r.code, 0, r.stderr);
  const rows = Object.fromEntries(r.stdout.trim().split('\n').map((l) => {
    const m = /^([a-z .]+):\s+(.*)$/.exec(l);
    assert.ok(m, `not a key: value line: ${JSON.stringify(l)}`);
    return [m[1], m[2]];
  }));
  assert.equal(rows.format, 'jpeg');
  assert.equal(rows.orientation, '6');
  assert.equal(rows['oriented width'], String(f.oriented_width));
  assert.equal(rows['oriented height'], String(f.oriented_height));
});

test('info of a bad file: the code and public message, exit 1, no stack trace', async () => {
  const r = await cli(['info', path.join(fixtures, 'bad/png-bomb-65535x65535.png')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /: FailedOperation\.ImageResolutionExceed: Expected width at most \d+ and height at most \d+ for image but received 65535x65535\n$/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const missing = await cli(['info', path.join(fixtures, 'no-such-file.jpg')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /ENOENT: no such file or directory/);
});

test('info usage: --help exits 0, a missing or extra file or an unknown flag exits 2', async () => {
  const help = await cli(['info', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: imgsense info <file> \[--json\] \[--gps\]/);
  for (const args of [['info'], ['info', 'a.jpg', 'b.jpg'], ['info', '--xml', 'a.jpg']]) {
    const r = await cli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^imgsense: info: /);
  }
});
