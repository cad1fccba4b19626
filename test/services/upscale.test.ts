import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { allModels, createModelStore, InferenceRuntime } from '../../src/inference/index.js';
import { overlapFor, upscaleRgb } from '../../src/services/upscale.js';
import { planTiles } from '../../src/services/upscale-tiles.js';
import { fixture } from '../helpers/fixtures.js';

const dataDir = '.tmp/test-data';
const runtime = new InferenceRuntime(createModelStore(dataDir), allModels(dataDir), { threads: 2, concurrencyPerModel: 1, batchWindowMs: 0, maxBatch: 1 });
after(() => runtime.close());

interface Rgb { width: number; height: number; rgb: Uint8Array }

/** A centred crop of a fixture photo as raw RGB. */
async function crop(path: string, width: number, height: number): Promise<Rgb> {
  const buf = fixture(path);
  const m = await sharp(buf).metadata();
  const rgb = await sharp(buf)
    .extract({ left: Math.floor((m.width - width) / 2), top: Math.floor((m.height - height) / 2), width, height })
    .removeAlpha().raw().toBuffer();
  return { width, height, rgb: new Uint8Array(rgb) };
}

async function resize(img: Rgb, width: number, height: number): Promise<Rgb> {
  const rgb = await sharp(img.rgb, { raw: { width: img.width, height: img.height, channels: 3 } }).resize(width, height, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
  return { width, height, rgb: new Uint8Array(rgb) };
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (sum / a.length));
}

/** Mean absolute difference between output columns x-1 and x (all rows, all channels). */
function columnStep(img: Uint8Array, width: number, height: number, x: number): number {
  let sum = 0;
  for (let y = 0; y < height; y++) for (let c = 0; c < 3; c++) sum += Math.abs(img[(y * width + x) * 3 + c]! - img[(y * width + x - 1) * 3 + c]!);
  return sum / (height * 3);
}

function rowStep(img: Uint8Array, width: number, y: number): number {
  let sum = 0;
  for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) sum += Math.abs(img[(y * width + x) * 3 + c]! - img[((y - 1) * width + x) * 3 + c]!);
  return sum / (width * 3);
}

test('tiled and untiled results agree away from the border, and tile borders do not stand out', async () => {
  const input = await crop('objects/dog.jpg', 96, 72);
  const scale = 2;
  const whole = await upscaleRgb(runtime, input, { model: 'slim', scale }, 128);
  const tileSize = 32;
  const tiled = await upscaleRgb(runtime, input, { model: 'slim', scale }, tileSize);
  const W = input.width * scale;
  const H = input.height * scale;
  assert.equal(tiled.length, W * H * 3);

  // Agreement away from the image border (the border itself is the same zero padding in both).
  const margin = 4 * scale;
  let sum = 0;
  let n = 0;
  let worst = 0;
  for (let y = margin; y < H - margin; y++) {
    for (let x = margin; x < W - margin; x++) {
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(tiled[(y * W + x) * 3 + c]! - whole[(y * W + x) * 3 + c]!);
        sum += d;
        n++;
        worst = Math.max(worst, d);
      }
    }
  }
  const mean = sum / n;
  assert.ok(mean < 0.5, `tiled differs from untiled by ${mean.toFixed(3)} on average`);
  assert.ok(worst <= 16, `tiled differs from untiled by up to ${worst}`);

  // Every place where a tile starts or ends inside the image: the step across it is no larger than across the
  // neighbouring interior columns/rows (with the untiled image as the measure of what the picture itself does).
  const tiles = planTiles(input.width, input.height, tileSize, overlapFor(tileSize));
  const cols = new Set(tiles.flatMap((t) => [t.x * scale, (t.x + t.width) * scale]).filter((x) => x > 0 && x < W));
  const rows = new Set(tiles.flatMap((t) => [t.y * scale, (t.y + t.height) * scale]).filter((y) => y > 0 && y < H));
  assert.ok(cols.size >= 2 && rows.size >= 2, 'the plan has inner tile edges');
  for (const x of cols) {
    const seam = columnStep(tiled, W, H, x) - columnStep(whole, W, H, x);
    const neighbours = [-3, -2, 2, 3].map((d) => Math.abs(columnStep(tiled, W, H, x + d) - columnStep(whole, W, H, x + d)));
    assert.ok(seam <= Math.max(0.5, 2 * Math.max(...neighbours)), `column ${x}: step excess ${seam.toFixed(3)} vs neighbours ${neighbours.map((v) => v.toFixed(3))}`);
  }
  for (const y of rows) {
    const seam = rowStep(tiled, W, y) - rowStep(whole, W, y);
    const neighbours = [-3, -2, 2, 3].map((d) => Math.abs(rowStep(tiled, W, y + d) - rowStep(whole, W, y + d)));
    assert.ok(seam <= Math.max(0.5, 2 * Math.max(...neighbours)), `row ${y}: step excess ${seam.toFixed(3)} vs neighbours ${neighbours.map((v) => v.toFixed(3))}`);
  }
});

for (const scale of [2, 4] as const) {
  test(`x${scale} of a downscaled photo is closer (PSNR) to the original than bicubic`, async () => {
    for (const path of ['objects/dog.jpg', 'faces/none/waterfall.jpg']) {
      const original = await crop(path, 96, 96);
      const small = await resize(original, 96 / scale, 96 / scale);
      const bicubic = await resize(small, 96, 96);
      const sr = await upscaleRgb(runtime, small, { model: 'slim', scale }, 128);
      assert.equal(sr.length, original.rgb.length, 'output dimensions');
      const ours = psnr(sr, original.rgb);
      const base = psnr(bicubic.rgb, original.rgb);
      assert.ok(ours > base, `${path} x${scale}: ESRGAN ${ours.toFixed(2)} dB vs bicubic ${base.toFixed(2)} dB`);
    }
  });
}

test('progress counts every tile; a tile store hands back finished tiles instead of running them again', async () => {
  const input = await crop('objects/dog.jpg', 64, 40);
  const saved = new Map<number, Uint8Array>();
  const progress: number[] = [];
  const first = await upscaleRgb(runtime, input, { model: 'slim', scale: 2 }, 32, {
    tiles: { load: async (i) => saved.get(i), save: async (i, b) => { saved.set(i, b); } },
    onProgress: (done) => progress.push(done),
  });
  const total = planTiles(64, 40, 32, overlapFor(32)).length;
  assert.deepEqual(progress, Array.from({ length: total }, (_, i) => i + 1));
  assert.equal(saved.size, total);
  let ran = 0;
  const counting = { run: (id: string, x: Parameters<typeof runtime.run>[1]) => { ran++; return runtime.run(id, x); }, entry: (id: string) => runtime.entry(id) };
  saved.delete(total - 1);
  const resumed = await upscaleRgb(counting, input, { model: 'slim', scale: 2 }, 32, {
    tiles: { load: async (i) => saved.get(i), save: async (i, b) => { saved.set(i, b); } },
  });
  assert.equal(ran, 1, 'only the missing tile ran');
  assert.deepEqual(resumed, first, 'a resumed run gives the same pixels');

  const controller = new AbortController();
  controller.abort(new Error('cancelled'));
  await assert.rejects(upscaleRgb(runtime, input, { model: 'slim', scale: 2 }, 32, { signal: controller.signal }), /cancelled/);
});
