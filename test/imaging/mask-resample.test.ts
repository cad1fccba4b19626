import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { blurSeparable, featheredAlpha, gaussianTaps, libvipsOffset, resizeBilinear } from '../../src/imaging/mask-resample.js';

test('gaussianTaps: normalised, symmetric, cut below 0.2 of the peak as libvips with sharp defaults', () => {
  const t = gaussianTaps(2);
  assert.equal(t.length, 7); // exp(-9/8) = 0.32 kept, exp(-16/8) = 0.14 dropped
  assert.ok(Math.abs(t.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  for (let i = 0; i < 3; i++) assert.equal(t[i], t[6 - i]);
  assert.ok(t[3]! > t[2]! && t[2]! > t[1]!);
  assert.deepEqual([...gaussianTaps(0.5)], [1]); // exp(-2) < 0.2: nothing beside the centre
  assert.deepEqual([...gaussianTaps(0)], [1]);
});

test('blurSeparable: a constant stays constant up to the edges; a single spike spreads as the taps', () => {
  const flat = blurSeparable(new Float32Array(35).fill(100), 7, 5, gaussianTaps(1.5), gaussianTaps(1));
  for (const v of flat) assert.ok(Math.abs(v - 100) < 1e-3);
  const spike = new Float32Array(9 * 9);
  spike[4 * 9 + 4] = 1;
  const tx = Float32Array.of(0.25, 0.5, 0.25);
  const ty = Float32Array.of(0.1, 0.8, 0.1);
  const out = blurSeparable(spike, 9, 9, tx, ty);
  for (let y = 0; y < 9; y++) {
    for (let x = 0; x < 9; x++) {
      const dx = Math.abs(x - 4);
      const dy = Math.abs(y - 4);
      const want = dx > 1 || dy > 1 ? 0 : tx[1 + dx]! * ty[1 + dy]!;
      assert.ok(Math.abs(out[y * 9 + x]! - want) < 1e-6, `${x},${y}`);
    }
  }
});

test('resizeBilinear: corners kept, halfway values between two pixels, offsets shift the grid', () => {
  const src = Float32Array.of(0, 100, 200, 255);
  // Sampled at 0, 0.5, 1 and 1 (clamped) on both axes.
  assert.deepEqual([...resizeBilinear(src, 2, 2, 4, 4)], [0, 50, 100, 100, 100, 139, 178, 178, 200, 228, 255, 255, 200, 228, 255, 255]);
  // offset -0.5 (libvips' enlarging grid): the first output pixel sits before the first source pixel, clamped.
  assert.deepEqual([...resizeBilinear(Float32Array.of(0, 100), 2, 1, 4, 1, -0.5, 0)], [0, 0, 50, 100]);
  assert.deepEqual([...resizeBilinear(Float32Array.of(0, 100, 200, 100), 4, 1, 2, 1, libvipsOffset(4, 2), 0)], [50, 150]);
  assert.equal(libvipsOffset(256, 500), -0.5);
  assert.equal(libvipsOffset(256, 128), 0.5);
});

test('featheredAlpha: within 1/255 on average of what sharp made (cubic upscale, then blur) on a disc mask', async () => {
  const mw = 64;
  const mh = 48;
  const mask = new Uint8Array(mw * mh);
  for (let y = 0; y < mh; y++) for (let x = 0; x < mw; x++) mask[y * mw + x] = Math.hypot(x - 30, y - 22) < 15 ? 255 : 0;
  for (const [w, h, feather] of [[150, 90, 2], [150, 90, 0], [40, 30, 2], [200, 60, 6]] as const) {
    let img = sharp(Buffer.from(mask), { raw: { width: mw, height: mh, channels: 1 } }).resize(w, h, { fit: 'fill', kernel: 'cubic' });
    if (feather >= 0.3) img = img.blur(feather);
    const ref = await img.extractChannel(0).raw().toBuffer();
    const got = featheredAlpha({ data: mask, width: mw, height: mh }, w, h, feather);
    assert.equal(got.length, w * h);
    let sum = 0;
    for (let i = 0; i < ref.length; i++) sum += Math.abs(got[i]! - ref[i]!);
    assert.ok(sum / ref.length < 1, `${w}x${h} feather ${feather}: mean difference ${sum / ref.length}`);
  }
});
