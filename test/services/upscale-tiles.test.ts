import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accumulateTile, axisStarts, createAccumulator, extractTile, planTiles, rampWeights, resolveAccumulator, toBytes,
} from '../../src/services/upscale-tiles.js';

test('axisStarts: tiles step by tile - overlap, the last one ends at the border, a short axis is one tile', () => {
  assert.deepEqual(axisStarts(50, 64, 16), [0]);
  assert.deepEqual(axisStarts(64, 64, 16), [0]);
  assert.deepEqual(axisStarts(100, 64, 16), [0, 36]);
  assert.deepEqual(axisStarts(200, 64, 16), [0, 48, 96, 136]);
  assert.throws(() => axisStarts(100, 16, 16), RangeError);
});

test('planTiles: row-major, every pixel covered, every tile the same size', () => {
  const tiles = planTiles(100, 70, 32, 8);
  assert.equal(tiles.length, axisStarts(100, 32, 8).length * axisStarts(70, 32, 8).length);
  assert.deepEqual(tiles.map((t) => t.index), tiles.map((_, i) => i));
  const covered = new Uint8Array(100 * 70);
  for (const t of tiles) {
    assert.equal(t.width, 32);
    assert.equal(t.height, 32);
    for (let y = t.y; y < t.y + t.height; y++) for (let x = t.x; x < t.x + t.width; x++) covered[y * 100 + x] = 1;
  }
  assert.ok(covered.every((v) => v === 1));
});

test('rampWeights: 1 on border edges, a linear ramp on inner edges, never zero', () => {
  assert.deepEqual([...rampWeights(4, 2, false, false)], [1, 1, 1, 1]);
  assert.deepEqual([...rampWeights(6, 2, true, false)], [0.25, 0.75, 1, 1, 1, 1]);
  assert.deepEqual([...rampWeights(6, 2, false, true)], [1, 1, 1, 1, 0.75, 0.25]);
  assert.ok(rampWeights(8, 4, true, true).every((w) => w > 0));
});

test('extractTile maps bytes onto the model range, row by row', () => {
  // a 3x2 image, pixel value = 10 * index
  const rgb = Uint8Array.from({ length: 18 }, (_, i) => Math.floor(i / 3) * 10);
  const t = extractTile(rgb, 3, { index: 0, x: 1, y: 0, width: 2, height: 2 }, 1 / 255, 0);
  assert.deepEqual([...t].map((v) => Math.round(v * 255)), [10, 10, 10, 20, 20, 20, 40, 40, 40, 50, 50, 50]);
});

test('toBytes rounds and clamps from the model range', () => {
  assert.deepEqual([...toBytes(Float32Array.of(-3, 0, 127.6, 300), [0, 255])], [0, 0, 128, 255]);
  assert.deepEqual([...toBytes(Float32Array.of(-0.1, 0.5, 1.2), [0, 1])], [0, 128, 255]);
});

test('blending identical tiles reproduces the image exactly; a constant offset in one tile fades in smoothly', () => {
  const width = 40;
  const height = 12;
  const scale = 2;
  const image = { width, height };
  const truth = Uint8Array.from({ length: width * scale * height * scale * 3 }, (_, i) => (i * 7) % 200);
  const tiles = planTiles(width, height, 16, 4);
  const cut = (rect: (typeof tiles)[number], add = 0) => {
    const out = new Uint8Array(rect.width * scale * rect.height * scale * 3);
    for (let y = 0; y < rect.height * scale; y++) {
      for (let x = 0; x < rect.width * scale * 3; x++) {
        out[y * rect.width * scale * 3 + x] = truth[((rect.y * scale + y) * width * scale + rect.x * scale) * 3 + x]! + add;
      }
    }
    return out;
  };
  const exact = createAccumulator(width * scale, height * scale);
  for (const t of tiles) accumulateTile(exact, cut(t), t, scale, 8, image);
  assert.deepEqual(resolveAccumulator(exact), truth);

  // Tile 1 is 40 brighter: across its left overlap the difference must rise gradually, not jump.
  const shifted = createAccumulator(width * scale, height * scale);
  for (const t of tiles) accumulateTile(shifted, cut(t, t.index === 1 ? 40 : 0), t, scale, 8, image);
  const out = resolveAccumulator(shifted);
  const row = 5;
  const diff = (x: number) => out[((row * width * scale) + x) * 3]! - truth[((row * width * scale) + x) * 3]!;
  const t1 = tiles[1]!;
  const start = t1.x * scale;
  let largestStep = 0;
  for (let x = start; x < start + 8; x++) largestStep = Math.max(largestStep, Math.abs(diff(x + 1) - diff(x)));
  assert.ok(largestStep <= 40 / 4, `the offset jumps by ${largestStep} in one pixel`);
  assert.equal(diff(start - 1), 0, 'left of tile 1 is untouched');
});
