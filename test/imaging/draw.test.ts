import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markingsSvg, placeCaption } from '../../src/imaging/draw.js';

const bands = (svg: string) => [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)" fill="#/g)]
  .map((m) => ({ x: Number(m[1]), y: Number(m[2]), width: Number(m[3]), height: Number(m[4]) }));

test('captions: above the box when there is room, inside it at the top edge, shifted left at the right edge', () => {
  assert.deepEqual(placeCaption({ x: 10, y: 50, width: 40, height: 40 }, 30, 16, 200, 200, []), { x: 10, y: 34, width: 30, height: 16 });
  assert.deepEqual(placeCaption({ x: 10, y: 5, width: 40, height: 40 }, 30, 16, 200, 200, []), { x: 10, y: 5, width: 30, height: 16 });
  assert.equal(placeCaption({ x: 190, y: 50, width: 10, height: 10 }, 30, 16, 200, 200, []).x, 170);
});

test('captions of faces side by side (a group photo) do not cover one another', () => {
  // Five faces in a row, 40 px apart, with captions wider than the gap: the bbt3 layout where each hid the last.
  const marks = Array.from({ length: 5 }, (_, i) => ({ box: { x: 20 + i * 40, y: 60, width: 36, height: 40 }, label: `${i + 1} 0.94 male 29` }));
  const placed = bands(markingsSvg(300, 200, marks));
  assert.equal(placed.length, 5);
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      const [a, b] = [placed[i]!, placed[j]!];
      const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
      assert.ok(!overlap, `captions ${i + 1} and ${j + 1} overlap: ${JSON.stringify([a, b])}`);
    }
    assert.ok(placed[i]!.x >= 0 && placed[i]!.x + placed[i]!.width <= 300 && placed[i]!.y >= 0 && placed[i]!.y + placed[i]!.height <= 200);
  }
});
