import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCenternet } from '../../src/inference/models/centernet-decode.js';
import { decodeNanodet, distributionMean, nanodetLevels } from '../../src/inference/models/nanodet-decode.js';
import { iou, nms, suppress, type Detection } from '../../src/inference/math/nms.js';
import { cocoClasses, cocoNames, supercategoryZh } from '../../src/inference/models/coco-classes.js';
import { evenlySpacedFrames } from '../../src/imaging/decoded.js';
import { suggest } from '../../src/services/vision/moderation.js';

const det = (classId: number, score: number, x: number, y: number, width: number, height: number): Detection => ({ classId, score, box: { x, y, width, height } });
const near = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test('COCO-80: the 80 names as COCO spells them, each with a Chinese name and a known supercategory', () => {
  assert.equal(cocoClasses.length, 80);
  assert.equal(new Set(cocoNames).size, 80);
  assert.deepEqual([cocoNames[0], cocoNames[16], cocoNames[58], cocoNames[60], cocoNames[62], cocoNames[79]], ['person', 'dog', 'potted plant', 'dining table', 'tv', 'toothbrush']);
  for (const c of cocoClasses) {
    assert.ok(c.nameZh.length > 0 && /[\u4e00-\u9fff]/.test(c.nameZh), c.name);
    assert.ok(supercategoryZh[c.supercategory], c.supercategory);
  }
});

test('iou: identical, disjoint, half overlapping', () => {
  near(iou({ x: 0, y: 0, width: 1, height: 1 }, { x: 0, y: 0, width: 1, height: 1 }), 1);
  near(iou({ x: 0, y: 0, width: 1, height: 1 }, { x: 2, y: 2, width: 1, height: 1 }), 0);
  near(iou({ x: 0, y: 0, width: 2, height: 1 }, { x: 1, y: 0, width: 2, height: 1 }), 1 / 3);
});

test('nms: the best box of a class suppresses its overlapping twins, not other classes', () => {
  const kept = nms([
    det(0, 0.5, 0, 0, 10, 10),
    det(0, 0.9, 1, 1, 10, 10), // iou with the first ~0.68: suppresses it
    det(0, 0.4, 50, 50, 10, 10), // far away: kept
    det(17, 0.8, 0, 0, 10, 10), // a horse under the rider: another class, kept
  ], 0.5);
  assert.deepEqual(kept.map((d) => [d.classId, d.score]), [[0, 0.9], [17, 0.8], [0, 0.4]]);
  assert.equal(nms(kept, 0.5, 2).length, 2, 'maxOutput');
});

test('suppress: the same box answered as two classes keeps the better class; a rider and a horse both stay', () => {
  const kept = suppress([
    det(17, 0.5, 0, 0, 100, 100), // horse
    det(19, 0.3, 1, 1, 100, 100), // cow, nearly the same box (iou ~0.96)
    det(0, 0.7, 20, 0, 40, 80), // person on the horse (iou 0.32)
  ], { iou: 0.5, crossClassIou: 0.8 });
  assert.deepEqual(kept.map((d) => d.classId), [0, 17]);
});

test('centernet: rows of x1 y1 x2 y2 score class in input pixels -> normalised boxes; padding and low scores dropped', () => {
  const rows = [
    [64, 128, 192, 384, 0.9, 16], // dog
    [0, 0, 10, 10, 0.1, 0], // below min score
    [NaN, NaN, NaN, NaN, NaN, NaN], // padding
    [-20, 500, 100, 600, 0.5, 2], // clamped to the input: y 500..512
    [10, 10, 20, 20, 0.8, 80], // class outside COCO-80
  ];
  const data = Float32Array.from(rows.flat());
  const out = decodeCenternet({ data, dims: [1, rows.length, 6] }, [512, 512], 0.3);
  assert.equal(out.length, 2);
  assert.equal(out[0]!.classId, 16);
  near(out[0]!.score, 0.9);
  assert.deepEqual(out[0]!.box, { x: 0.125, y: 0.25, width: 0.25, height: 0.5 });
  assert.deepEqual(out[1]!.box, { x: 0, y: 500 / 512, width: 100 / 512, height: 12 / 512 });
});

test('GFL integral: the expectation of softmax over the bins', () => {
  const bins = 11;
  const oneHot = new Float32Array(bins).fill(-50);
  oneHot[3] = 50;
  near(distributionMean(oneHot, 0, bins), 3, 1e-4);
  near(distributionMean(new Float32Array(bins), 0, bins), 5, 1e-6);
  const split = new Float32Array(bins).fill(-50);
  split[2] = 10;
  split[3] = 10;
  near(distributionMean(split, 0, bins), 2.5, 1e-4);
});

test('nanodet: cell centre plus/minus expected distances in strides; levels paired by cell count', () => {
  // one level of 2x2 cells on a 64x64 input: stride 32. Cell 3 (row 1, col 1, centre 48,48) holds a dog.
  const classes = 80;
  const bins = 11;
  const scores = new Float32Array(4 * classes);
  scores[3 * classes + 16] = 0.9;
  scores[0 * classes + 5] = 0.1; // below min score
  const boxes = new Float32Array(4 * 4 * bins).fill(-50);
  const side = (cell: number, s: number, bin: number) => { boxes[cell * 4 * bins + s * bins + bin] = 50; };
  side(3, 0, 1); // left: 1 stride
  side(3, 1, 0); // top: 0
  side(3, 2, 0); // right: 0
  side(3, 3, 2); // bottom: 2 strides, clamped to the input
  for (let c = 0; c < 3; c++) for (let s = 0; s < 4; s++) side(c, s, 0);
  const outputs = { Identity_1: { data: boxes, dims: [1, 4, 4 * bins] }, Identity: { data: scores, dims: [1, 4, classes] } };
  const levels = nanodetLevels(outputs);
  assert.equal(levels.length, 1);
  assert.equal(levels[0]!.scores.dims[2], classes);
  const out = decodeNanodet(levels, [64, 64], 0.3);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.classId, 16);
  const b = out[0]!.box;
  near(b.x, 16 / 64, 1e-4);
  near(b.y, 48 / 64, 1e-4);
  near(b.width, 32 / 64, 1e-4);
  near(b.height, 16 / 64, 1e-4);
});

test('animation frames: evenly spaced, first and last included, bounded', () => {
  assert.deepEqual(evenlySpacedFrames(30, 5), [0, 7, 15, 22, 29]);
  assert.deepEqual(evenlySpacedFrames(3, 5), [0, 1, 2]);
  assert.deepEqual(evenlySpacedFrames(10, 1), [0]);
  assert.equal(evenlySpacedFrames(300, 8).length, 8);
});

test('moderation suggestion: Block on explicit, Review on suggestive, else Pass', () => {
  const policy = { block: 0.7, review: 0.4 };
  const s = (porn: number, hentai: number, sexy: number) => ({ drawing: 0, neutral: 1 - porn - hentai - sexy, porn, hentai, sexy });
  assert.equal(suggest(s(0.5, 0.25, 0), policy), 'Block');
  assert.equal(suggest(s(0.1, 0, 0.35), policy), 'Review');
  assert.equal(suggest(s(0.01, 0.01, 0.1), policy), 'Pass');
  assert.equal(suggest(s(0.01, 0.01, 0.1), { block: 0.01, review: 1 }), 'Block');
});
