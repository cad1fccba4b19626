import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from '../helpers/fixtures.js';
import { createHuman } from '../helpers/human-reference.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';

/**
 * Our ONNX path against @vladmandic/human on TF.js wasm, same models, same images: every object the reference
 * reports at a fair score we report too, same class, overlapping box. CenterNet decodes inside the graph, so
 * boxes and scores must agree closely. For NanoDet we deliberately decode differently (the GFL expectation
 * instead of the argmax bin, per-class NMS), so boxes need only overlap clearly.
 */
let server: TestServer;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });

type Box = { x: number; y: number; width: number; height: number };
const iou = (a: Box, b: Box) => {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
};

const images = ['objects/dog.jpg', 'objects/person.jpg', 'objects/horses.jpg', 'objects/giraffe.jpg', 'objects/eagle.jpg', 'objects/kite.jpg'];
// CenterNet: boxes of a dozen pixels differ by a rounding pixel, hence 0.7; scores within 0.06 either way.
// NanoDet: the reference may report one object twice (class-agnostic NMS at 0.4 keeps a shifted argmax box);
// ours must cover it with a box as strong, not necessarily as weak. Small boxes move by a few pixels between
// the two decodings (argmax bin vs expectation), hence IoU 0.4.
const settings = { centernet: { iou: 0.7, below: 0.06, above: 0.06 }, nanodet: { iou: 0.4, below: 0.1, above: 1 } } as const;

for (const model of ['centernet', 'nanodet'] as const) {
  test(`${model}: nothing the reference library finds is lost`, { timeout: 300_000 }, async () => {
    const human = await createHuman({ object: { enabled: true, modelPath: `${model}.json`, minConfidence: 0.3, maxDetected: 100, skipFrames: 0, skipTime: 0 } });
    let compared = 0;
    for (const path of images) {
      const ref = (await human.detect(fixture(path))).object;
      const res = await postForm(server.url, '/v1/vision/objects', fixture(path), { model, top_k: 100, min_score: 0.15 });
      const ours = ((await res.json()) as { objects: { name: string; score: number; box: Box }[] }).objects;
      for (const r of ref) {
        const box = { x: r.box[0], y: r.box[1], width: r.box[2], height: r.box[3] };
        // the strongest of our boxes of that class that overlaps it enough
        // (the reference's argmax decoding can give a box of zero width: then ours must contain its centre)
        const degenerate = box.width < 2 || box.height < 2;
        const covers = (o: Box) => (degenerate
          ? o.x <= box.x + box.width / 2 && box.x + box.width / 2 <= o.x + o.width && o.y <= box.y + box.height / 2 && box.y + box.height / 2 <= o.y + o.height
          : iou(o, box) >= settings[model].iou);
        const same = ours.filter((o) => o.name === r.label && covers(o.box)).sort((a, b) => b.score - a.score)[0];
        const where = `${path}: reference ${r.label} ${r.score} ${JSON.stringify(box)}; ours ${JSON.stringify(same ?? ours.filter((o) => o.name === r.label))}`;
        assert.ok(same, where);
        assert.ok(same.score >= r.score - settings[model].below && same.score <= r.score + settings[model].above, `${where} score`);
        compared++;
      }
    }
    human.close();
    assert.ok(compared >= 10, `${compared} reference objects compared`);
  });
}
