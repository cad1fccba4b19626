import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assembleOutputs, blazefaceAnchors, decodeBlazeface } from '../../src/inference/models/face/blazeface.js';
import { iou, nms, overlapOfSmaller } from '../../src/inference/models/face/nms.js';
import { detectorSquares, touchesInnerEdge, zoomedOutSquare } from '../../src/inference/models/face/tiles.js';
import { faceCropBox, meshBox, meshLandmarks, meshToImage, type Point3 } from '../../src/inference/models/face/mesh.js';
import { poseFromKeypoints, poseFromMesh } from '../../src/inference/models/face/pose.js';
import { decodeAge, decodeEmotion, decodeGender, decodeLiveness } from '../../src/inference/models/face/attributes.js';
import { faceQuality, laplacianVariance } from '../../src/inference/models/face/quality.js';
import { decodeSegmentation } from '../../src/inference/models/segmentation.js';
import { cropAndResize } from '../../src/imaging/crop-resize.js';

test('anchors: 896 for 256 input, a 16x16 grid x2 (stride 16) then an 8x8 grid x6 (stride 32)', () => {
  const a = blazefaceAnchors(256);
  assert.equal(a.length, 896 * 2);
  assert.deepEqual([...a.slice(0, 6)], [8, 8, 8, 8, 24, 8]);
  assert.deepEqual([a[511 * 2], a[511 * 2 + 1]], [248, 248]);
  assert.deepEqual([...a.slice(512 * 2, 512 * 2 + 2)], [16, 16]);
  assert.deepEqual([a[895 * 2], a[895 * 2 + 1]], [240, 240]);
});

test('assembleOutputs: the four tensors are told apart by shape, grid 16 first, score then 16 regressors', () => {
  const t = (rows: number, cols: number, base: number) => ({ dims: [1, rows, cols], data: Float32Array.from({ length: rows * cols }, (_, i) => base + i) });
  const table = assembleOutputs({ a: t(384, 16, 3000), b: t(512, 1, 100), c: t(384, 1, 200), d: t(512, 16, 1000) });
  assert.equal(table.length, 896 * 17);
  assert.deepEqual([...table.slice(0, 3)], [100, 1000, 1001]);
  assert.deepEqual([...table.slice(512 * 17, 512 * 17 + 3)], [200, 3000, 3001]);
  assert.throws(() => assembleOutputs({ b: t(512, 1, 0) }), /no output of shape/);
});

test('decodeBlazeface: sigmoid score, centre offsets from the anchor, keypoints relative to the anchor', () => {
  const anchors = blazefaceAnchors(256);
  const table = new Float32Array(896 * 17).fill(0);
  for (let i = 0; i < 896; i++) table[i * 17] = -10; // every anchor "no face"
  const i = 600; // in the 8x8 grid
  const [ax, ay] = [anchors[i * 2]!, anchors[i * 2 + 1]!];
  table.set([2, 4, -6, 40, 50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], i * 17);
  const found = decodeBlazeface(table, anchors, 0.5);
  assert.equal(found.length, 1);
  const f = found[0]!;
  assert.ok(Math.abs(f.score - 1 / (1 + Math.exp(-2))) < 1e-6);
  assert.deepEqual(f.box, { x1: ax + 4 - 20, y1: ay - 6 - 25, x2: ax + 4 + 20, y2: ay - 6 + 25 });
  assert.equal(f.keypoints.length, 6);
  assert.deepEqual(f.keypoints[0], { x: ax + 1, y: ay + 2 });
  assert.deepEqual(f.keypoints[5], { x: ax + 11, y: ay + 12 });
  assert.equal(decodeBlazeface(table, anchors, 0.9).length, 0);
});

test('nms: the best of overlapping boxes survives; a box inside a bigger one is the same face', () => {
  const a = { score: 0.9, box: { x1: 0, y1: 0, x2: 10, y2: 10 } };
  const b = { score: 0.8, box: { x1: 1, y1: 1, x2: 11, y2: 11 } };
  const c = { score: 0.7, box: { x1: 50, y1: 50, x2: 60, y2: 60 } };
  const inner = { score: 0.95, box: { x1: 2, y1: 2, x2: 7, y2: 7 } };
  assert.ok(Math.abs(iou(a.box, b.box) - 81 / 119) < 1e-9);
  assert.deepEqual(nms([c, b, a], 0.3), [a, c]);
  assert.equal(overlapOfSmaller(a.box, inner.box), 1);
  assert.deepEqual(nms([a, inner], 0.3), [inner, a], 'IoU alone keeps both');
  assert.deepEqual(nms([a, inner], 0.3, { containment: 0.6 }), [inner]);
  assert.deepEqual(nms([a, b, c], 0.3, { max: 1 }), [a]);
});

test('detector squares: the whole image for a square one; plus shorter-side squares overlapping by half for a wide one', () => {
  assert.deepEqual(detectorSquares(300, 300).map((s) => [s.x, s.y, s.size]), [[0, 0, 300]]);
  assert.deepEqual(zoomedOutSquare(300, 200), { x: -75, y: -125, size: 450, whole: true });
  const wide = detectorSquares(1000, 500);
  assert.deepEqual(wide.map((s) => [s.x, s.y, s.size]), [[0, -250, 1000], [0, 0, 500], [250, 0, 500], [500, 0, 500]]);
  const tall = detectorSquares(400, 1000);
  assert.deepEqual(tall.slice(1).map((s) => [s.x, s.y]), [[0, 0], [0, 200], [0, 400], [0, 600]]);
  const sq = wide[2]!; // x 250..750
  assert.equal(touchesInnerEdge({ x1: 251, y1: 10, x2: 300, y2: 60 }, sq, 1000, 500), true, 'cut by the left edge at 250');
  assert.equal(touchesInnerEdge({ x1: 300, y1: 0, x2: 350, y2: 60 }, sq, 1000, 500), false, 'the image top is not an inner edge');
  assert.equal(touchesInnerEdge({ x1: 0, y1: 0, x2: 10, y2: 10 }, wide[0]!, 1000, 500), false, 'whole-image passes are never cut');
});

test('mesh geometry: the crop is square and 1.4x; crop-input pixels map back to the image', () => {
  const crop = faceCropBox({ x1: 100, y1: 100, x2: 200, y2: 150 });
  assert.deepEqual(crop, { x1: 80, y1: 55, x2: 220, y2: 195 });
  const pts = meshToImage([0, 0, 0, 192, 96, 96], crop);
  assert.deepEqual(pts, [{ x: 80, y: 55, z: 0 }, { x: 220, y: 125, z: 70 }]);
  assert.deepEqual(meshBox(pts), { x1: 80, y1: 55, x2: 220, y2: 125 });
  const mesh = Array.from({ length: 468 }, (_, i) => ({ x: i, y: 2 * i, z: 0 }));
  const lm = meshLandmarks(mesh);
  assert.deepEqual(lm.map((l) => l.name), ['rightEye', 'leftEye', 'nose', 'mouth', 'rightEar', 'leftEar']);
  assert.deepEqual(lm[0], { name: 'rightEye', x: 83, y: 166 }); // mean of 33 and 133
  assert.deepEqual(lm[2], { name: 'nose', x: 1, y: 2 });
});

/** A flat frontal "mesh": forehead 10 above chin 152, ears 234 and 454 level, then rotated about the image normal. */
function frontalMesh(rollDeg: number, yawDeg = 0): Point3[] {
  const mesh: Point3[] = Array.from({ length: 468 }, () => ({ x: 0, y: 0, z: 0 }));
  const r = (rollDeg * Math.PI) / 180;
  const yw = (yawDeg * Math.PI) / 180;
  const place = (i: number, x: number, y: number, z: number) => {
    const [x1, z1] = [x * Math.cos(yw) + z * Math.sin(yw), -x * Math.sin(yw) + z * Math.cos(yw)];
    mesh[i] = { x: x1 * Math.cos(r) - y * Math.sin(r), y: x1 * Math.sin(r) + y * Math.cos(r), z: z1 };
  };
  place(10, 0, -60, 0);
  place(152, 0, 60, 0);
  place(234, -50, 0, 0);
  place(454, 50, 0, 0);
  return mesh;
}

test('pose from the mesh: a level frontal face is 0/0/0; tilting it shows in roll, turning it in yaw', () => {
  assert.deepEqual(poseFromMesh(frontalMesh(0)), { yaw: 0, pitch: 0, roll: 0 });
  const tilted = poseFromMesh(frontalMesh(20));
  assert.ok(Math.abs(Math.abs(tilted.roll) - 20) < 0.5, JSON.stringify(tilted));
  assert.ok(Math.abs(tilted.yaw) < 0.5 && Math.abs(tilted.pitch) < 0.5);
  const turned = poseFromMesh(frontalMesh(0, 30));
  assert.ok(Math.abs(Math.abs(turned.yaw) - 30) < 0.5, JSON.stringify(turned));
  assert.equal(Math.sign(poseFromMesh(frontalMesh(20)).roll), -Math.sign(poseFromMesh(frontalMesh(-20)).roll));
});

test('pose from six keypoints: symmetric face is level; eyes on a slope give the roll', () => {
  const kp = [{ x: 40, y: 50 }, { x: 60, y: 50 }, { x: 50, y: 60 }, { x: 50, y: 70 }, { x: 30, y: 55 }, { x: 70, y: 55 }];
  assert.deepEqual(poseFromKeypoints(kp), { yaw: 0, pitch: 0, roll: 0 });
  const sloped = kp.map((p, i) => (i === 1 ? { x: 60, y: 70 } : p));
  assert.equal(poseFromKeypoints(sloped).roll, 45);
  const turned = kp.map((p, i) => (i === 2 ? { x: 60, y: 60 } : p));
  assert.equal(poseFromKeypoints(turned).yaw, -30, 'nose toward the image right: turned that way, negative as from the mesh');
});

test('attribute decoding: emotion argmax over 7 labels, gender from a sigmoid, age from 100 bins, liveness averaged', () => {
  const e = decodeEmotion([0.01, 0.01, 0.02, 0.9, 0.02, 0.02, 0.02]);
  assert.equal(e.value, 'happy');
  assert.deepEqual(Object.keys(e.scores), ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);
  assert.deepEqual(decodeGender(0.9), { value: 'male', score: 0.8 });
  assert.deepEqual(decodeGender(0.1), { value: 'female', score: 0.8 });
  const bins = new Float32Array(100);
  bins[30] = 0.5; bins[31] = 0.2; bins[29] = 0.1;
  assert.equal(decodeAge(bins), 32); // 10*30 + 100*0.2 = 320 -> 32.0
  assert.equal(decodeLiveness(1, 0.5), 0.75);
  assert.equal(decodeLiveness(Number.NaN, 2), 0.5);
});

test('quality: a flat grey patch has no sharpness; a checkerboard is sharp; brightness is the mean', () => {
  const side = 32;
  const flat = new Float32Array(side * side).fill(128);
  const checker = Float32Array.from({ length: side * side }, (_, i) => (((i % side) + Math.floor(i / side)) % 2 ? 255 : 0));
  assert.equal(laplacianVariance(flat, side), 0);
  const q0 = faceQuality(flat, side, 56);
  assert.equal(q0.sharpness, 0);
  assert.equal(q0.brightness, 0.502);
  assert.equal(q0.size, 56);
  const q1 = faceQuality(checker, side, 200);
  assert.ok(q1.sharpness > 0.99);
  assert.ok(q1.score > q0.score && q1.score <= 100);
});

test('cropAndResize: the whole image at its own size is itself; outside the image is black', () => {
  const img = { data: Uint8Array.from([10, 20, 30, 40]), width: 2, height: 2, channels: 1 };
  assert.deepEqual([...cropAndResize(img, { x1: 0, y1: 0, x2: 2, y2: 2 }, 2, 2)], [10, 20, 30, 40]);
  const wide = cropAndResize(img, { x1: -2, y1: 0, x2: 2, y2: 2 }, 3, 2);
  assert.equal(wide[0], 0, 'left of the image');
  const mid = cropAndResize(img, { x1: 0, y1: 0, x2: 2, y2: 2 }, 3, 3);
  assert.equal(mid[4], 25, 'centre is the bilinear mean');
});

test('cropAndResize: CHW holds the same samples as HWC, one plane per channel', () => {
  // 2x2 RGB: pixel p has channels (p+1, 10(p+1), 100(p+1)) in HWC order.
  const img = { data: Uint8Array.from([1, 10, 100, 2, 20, 200, 3, 30, 30, 4, 40, 40]), width: 2, height: 2, channels: 3 };
  const box = { x1: 0, y1: 0, x2: 2, y2: 2 };
  assert.deepEqual([...cropAndResize(img, box, 2, 2, 1, undefined, 'chw')], [1, 2, 3, 4, 10, 20, 30, 40, 100, 200, 30, 40]);
  const hwc = cropAndResize(img, { x1: -1, y1: 0, x2: 2, y2: 2 }, 3, 3, 0.5);
  const chw = cropAndResize(img, { x1: -1, y1: 0, x2: 2, y2: 2 }, 3, 3, 0.5, undefined, 'chw');
  for (let p = 0; p < 9; p++) for (let c = 0; c < 3; c++) assert.equal(chw[c * 9 + p], hwc[p * 3 + c], `pixel ${p} channel ${c}`);
  // CHW into a reused array of junk: what stays black is cleared, so the planes match.
  const junk = cropAndResize(img, { x1: -1, y1: 0, x2: 2, y2: 2 }, 3, 3, 0.5, (n) => new Float32Array(n).fill(NaN), 'chw');
  assert.deepEqual([...junk], [...chw]);
});

test('cropAndResize: enlarged and shrunk crops give tf\'s bilinear values; a reused array is fully overwritten', () => {
  // 3x3 RGB, channel k of pixel (x, y) = 10 * (3y + x) + k.
  const img = { data: Uint8Array.from({ length: 27 }, (_, i) => 10 * Math.floor(i / 3) + (i % 3)), width: 3, height: 3, channels: 3 };
  // tf's kernel at (x, y) in source pixels, with the same rounding steps.
  const at = (x: number, y: number, k: number) => {
    const v = (px: number, py: number) => img.data[(py * 3 + px) * 3 + k]!;
    const x0 = Math.floor(x), y0 = Math.floor(y), fx = Math.fround(x - x0), fy = y - y0;
    const t = v(x0, y0) + (v(Math.min(2, x0 + 1), y0) - v(x0, y0)) * fx;
    const b = v(x0, Math.min(2, y0 + 1)) + (v(Math.min(2, x0 + 1), Math.min(2, y0 + 1)) - v(x0, Math.min(2, y0 + 1))) * fx;
    return Math.fround(t + (b - t) * fy);
  };
  // Enlarged: 7 output rows over 3 source rows (rows shared); sample positions are box edges scaled by (size - 1) / size.
  const big = cropAndResize(img, { x1: 0, y1: 0, x2: 3, y2: 3 }, 7, 7);
  for (const [ox, oy] of [[0, 0], [3, 3], [6, 6], [1, 5], [5, 2]] as const) {
    for (let k = 0; k < 3; k++) assert.equal(big[(oy * 7 + ox) * 3 + k], at((ox * 2) / 6, (oy * 2) / 6, k), `enlarged (${ox}, ${oy}) channel ${k}`);
  }
  assert.equal(big[(3 * 7 + 3) * 3], 40, 'the centre is the centre pixel');
  // Shrunk: 2 rows over 3.
  const small = cropAndResize(img, { x1: 0, y1: 0, x2: 3, y2: 3 }, 2, 2);
  assert.deepEqual([...small], [0, 1, 2, 20, 21, 22, 60, 61, 62, 80, 81, 82]);
  // Planes (NCHW models) hold the same values, written in the sampling pass, enlarged and shrunk alike.
  assert.deepEqual([...cropAndResize(img, { x1: 0, y1: 0, x2: 3, y2: 3 }, 2, 2, 1, undefined, 'chw')], [0, 20, 60, 80, 1, 21, 61, 81, 2, 22, 62, 82]);
  const bigChw = cropAndResize(img, { x1: 0, y1: 0, x2: 3, y2: 3 }, 7, 7, 1, undefined, 'chw');
  for (let p = 0; p < 49; p++) for (let k = 0; k < 3; k++) assert.equal(bigChw[k * 49 + p], big[p * 3 + k], `planar pixel ${p} channel ${k}`);
  // Half outside, into an array full of junk: outside is black, inside as without the array.
  const box = { x1: -3, y1: 1, x2: 3, y2: 4 };
  const fresh = cropAndResize(img, box, 5, 4, 1 / 255);
  const reused = cropAndResize(img, box, 5, 4, 1 / 255, (n) => new Float32Array(n).fill(NaN));
  assert.deepEqual([...reused], [...fresh]);
  assert.equal(fresh[0], 0);
  assert.ok(fresh.some((v) => v > 0));
});

test('segmentation decoding: selfie probabilities to 0..255; meet softmax of person over background', () => {
  const selfie = decodeSegmentation([0, 0.5, 1, 0.25], [1, 2, 2, 1]);
  assert.deepEqual([...selfie.data], [0, 128, 255, 64]);
  assert.deepEqual([selfie.width, selfie.height], [2, 2]);
  const meet = decodeSegmentation([5, -5, -5, 5, 0, 0], [1, 1, 3, 2]);
  assert.deepEqual([...meet.data], [0, 255, 128]);
  assert.throws(() => decodeSegmentation([0, 0, 0], [1, 1, 1, 3]), /1 or 2 channels/);
});
