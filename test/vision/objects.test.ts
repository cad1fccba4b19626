import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp, { type Sharp } from 'sharp';
import { fixture, manifest } from '../helpers/fixtures.js';
import { decodeForModels, shrinkOnLoad } from '../../src/imaging/decoded.js';
import { probeImage } from '../../src/imaging/probe.js';
import { defaultLimits } from '../../src/config/limits.js';
import { postForm, postJson, startServer, type ErrorBody, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });

interface Obj { name: string; nameZh: string; classId: number; score: number; box: { x: number; y: number; width: number; height: number } }
interface ObjectsBody { requestId: string; model: string; imageWidth: number; imageHeight: number; objects: Obj[] }

async function objects(image: Buffer, fields: Record<string, unknown> = {}): Promise<ObjectsBody> {
  const res = await postForm(server.url, '/v1/vision/objects', image, fields);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body as ObjectsBody;
}

const boxIou = (a: Obj['box'], b: Obj['box']) => {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
};

type Listed = { path: string; objects: Record<string, number>; objects_range?: Record<string, [number, number]> };
const listed = (manifest.files as unknown as Listed[]).filter((f) => f.path.startsWith('objects/'));

for (const model of ['nanodet', 'centernet']) {
  test(`${model}: every listed object class of objects/*.jpg is found with a sensible score and box`, async () => {
    assert.ok(listed.length >= 6);
    for (const f of listed) {
      const r = await objects(fixture(f.path), { model, top_k: 100, min_score: 0.2 });
      assert.equal(r.model, model);
      const meta = await sharp(fixture(f.path)).metadata();
      assert.deepEqual([r.imageWidth, r.imageHeight], [meta.width, meta.height]);
      for (const [name, count] of Object.entries(f.objects)) {
        const [low] = f.objects_range?.[name] ?? [count];
        // dog.jpg's white pickup: "some detectors say car" (manifest note); either answer counts as found.
        const names = name === 'truck' ? ['truck', 'car'] : [name];
        const found = r.objects.filter((o) => names.includes(o.name));
        if (low === 0) continue;
        assert.ok(found.length >= 1, `${model} ${f.path}: no ${name} in ${r.objects.map((o) => `${o.name} ${o.score}`).join(', ')}`);
        assert.ok(found[0]!.score >= 0.3, `${model} ${f.path}: best ${name} only ${found[0]!.score}`);
      }
      for (const o of r.objects) {
        assert.ok(o.box.x >= 0 && o.box.y >= 0 && o.box.width > 0 && o.box.height > 0);
        assert.ok(o.box.x + o.box.width <= r.imageWidth && o.box.y + o.box.height <= r.imageHeight, JSON.stringify(o));
      }
    }
  });
}

test('the six horses and the kites: counted within the manifest ranges at the default model', async () => {
  const horses = await objects(fixture('objects/horses.jpg'), { classes: ['horse'], top_k: 100, min_score: 0.2 });
  assert.ok(horses.objects.length >= 4 && horses.objects.length <= 7, `${horses.objects.length} horses`);
  const kites = await objects(fixture('objects/kite.jpg'), { classes: ['kite'], top_k: 100, min_score: 0.2 });
  assert.ok(kites.objects.length >= 4 && kites.objects.length <= 8, `${kites.objects.length} kites`);
});

test('answers: sorted by score, COCO names with Chinese names and class ids, top_k default 5', async () => {
  const r = await objects(fixture('objects/kite.jpg'), { min_score: 0.05 });
  assert.equal(r.objects.length, 5);
  for (let i = 1; i < r.objects.length; i++) assert.ok(r.objects[i - 1]!.score >= r.objects[i]!.score);
  const kite = r.objects.find((o) => o.name === 'kite')!;
  assert.deepEqual([kite.classId, kite.nameZh], [33, '风筝']);
  assert.match(r.requestId, /\S/);
});

test('top_k, min_score and classes narrow the answer', async () => {
  const all = await objects(fixture('objects/kite.jpg'), { top_k: 100, min_score: 0.2 });
  const top2 = await objects(fixture('objects/kite.jpg'), { top_k: 2, min_score: 0.2 });
  assert.deepEqual(top2.objects, all.objects.slice(0, 2));
  const strict = await objects(fixture('objects/kite.jpg'), { top_k: 100, min_score: 0.5 });
  assert.ok(strict.objects.length < all.objects.length && strict.objects.every((o) => o.score >= 0.5));
  const people = await objects(fixture('objects/kite.jpg'), { top_k: 100, min_score: 0.2, classes: ['person'] });
  assert.ok(people.objects.length >= 3 && people.objects.every((o) => o.name === 'person'));
  assert.deepEqual(people.objects, all.objects.filter((o) => o.name === 'person'));
  // multipart sends numbers as text; JSON sends them typed: the same answer
  const json = await postJson(server.url, '/v1/vision/objects', { image: fixture('objects/kite.jpg').toString('base64'), top_k: 2, min_score: 0.2 });
  assert.deepEqual(((await json.json()) as ObjectsBody).objects, top2.objects);
});

test('no objects -> an empty list, not an error', async () => {
  const blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#7f7f7f' } }).png().toBuffer();
  for (const model of ['nanodet', 'centernet']) {
    const r = await objects(blank, { model });
    assert.deepEqual(r.objects, []);
  }
  const none = await objects(fixture('objects/eagle.jpg'), { classes: ['toothbrush'] });
  assert.deepEqual(none.objects, []);
});

test('a form field\'s comma-separated text is the list it names; JSON keeps arrays strict', async () => {
  const form = await postForm(server.url, '/v1/vision/objects', fixture('objects/person.jpg'), { classes: 'dog, horse', top_k: 10 });
  const body = (await form.json()) as ObjectsBody;
  assert.equal(form.status, 200, JSON.stringify(body));
  const names = new Set(body.objects.map((o) => o.name));
  assert.deepEqual([...names].sort(), ['dog', 'horse'], JSON.stringify(body.objects));
  const json = await postJson(server.url, '/v1/vision/objects', { image: fixture('objects/person.jpg').toString('base64'), classes: 'dog' });
  assert.equal(json.status, 400);
  assert.match(((await json.json()) as ErrorBody).error.message, /^Expected array of person, bicycle, .* \(at most 80 items\) for classes but received "dog"$/);
  const unknown = await postForm(server.url, '/v1/vision/objects', fixture('objects/person.jpg'), { classes: 'dog,spaceship' });
  assert.equal(unknown.status, 400);
  assert.match(((await unknown.json()) as ErrorBody).error.message, /for classes\[1\] but received "spaceship"$/);
});

test('bad parameters: a catalogued 400 naming the parameter, what is allowed and what was received', async () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ top_k: 120 }, 'InvalidParameterValue', /^Expected integer between 1 and 100 for top_k but received 120$/],
    [{ top_k: 0 }, 'InvalidParameterValue', /for top_k but received 0/],
    [{ min_score: 1.5 }, 'InvalidParameterValue', /^Expected number between 0 and 1 for min_score but received 1.5$/],
    [{ classes: ['tvmonitor'] }, 'InvalidParameterValue', /^Expected one of person, bicycle, .*tv, .* for classes\[0\] but received "tvmonitor"$/],
    [{ model: 'yolo' }, 'InvalidParameterValue', /^Expected one of centernet, nanodet for model but received "yolo"$/],
    [{ colour: 'red' }, 'InvalidParameter', /Expected only .*top_k.* but received "colour"/],
  ];
  for (const [fields, code, message] of cases) {
    for (const res of [
      await postForm(server.url, '/v1/vision/objects', fixture('objects/eagle.jpg'), fields),
      await postJson(server.url, '/v1/vision/objects', { image: fixture('objects/eagle.jpg').toString('base64'), ...fields }),
    ]) {
      const body = (await res.json()) as ErrorBody;
      assert.equal(res.status, 400, JSON.stringify(fields));
      assert.equal(body.error.code, code, JSON.stringify(body));
      assert.match(body.error.message, message);
      assert.equal(body.error.requestId, res.headers.get('x-request-id'));
    }
  }
  const missing = await postJson(server.url, '/v1/vision/objects', { top_k: 3 });
  assert.equal(missing.status, 400);
  assert.equal(((await missing.json()) as ErrorBody).error.code, 'MissingParameter');
  const broken = await postForm(server.url, '/v1/vision/objects', fixture('bad/truncated-40pct.jpg'));
  assert.equal(broken.status, 400);
});

/** Stored pixels for EXIF orientation n: the inverse of what a viewer applies (sharp rotates clockwise). */
async function exifTwin(upright: Buffer, orientation: number): Promise<Buffer> {
  const steps: Record<number, (s: Sharp) => Sharp> = {
    1: (s) => s, 2: (s) => s.flop(), 3: (s) => s.rotate(180), 4: (s) => s.flip(),
    5: (s) => s.rotate(90), 6: (s) => s.rotate(270), 7: (s) => s.rotate(90), 8: (s) => s.rotate(90),
  };
  const after: Record<number, (s: Sharp) => Sharp> = { 5: (s) => s.flop(), 7: (s) => s.flip() };
  let stored = await steps[orientation]!(sharp(upright)).png().toBuffer();
  if (after[orientation]) stored = await after[orientation]!(sharp(stored)).png().toBuffer();
  return sharp(stored).jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer();
}

test('EXIF-rotated twins: the same boxes, mapped back to the upright image, for all 8 orientations', async () => {
  const upright = fixture('objects/dog.jpg');
  const reference = await objects(await exifTwin(upright, 1), { top_k: 100, min_score: 0.3 });
  assert.ok(reference.objects.length >= 2, JSON.stringify(reference.objects));
  for (let n = 2; n <= 8; n++) {
    const twin = await exifTwin(upright, n);
    assert.equal((await sharp(twin).metadata()).orientation, n);
    const r = await objects(twin, { top_k: 100, min_score: 0.15 });
    assert.deepEqual([r.imageWidth, r.imageHeight], [768, 576], `orientation ${n}`);
    for (const o of reference.objects) {
      const match = r.objects.find((m) => m.name === o.name && boxIou(m.box, o.box) > 0.85);
      assert.ok(match, `orientation ${n}: ${o.name} ${JSON.stringify(o.box)} not in ${JSON.stringify(r.objects.map((m) => [m.name, m.box]))}`);
    }
  }
});

test('a large JPEG is decoded at a DCT scale for the detector, and its boxes still land on the original pixels', async () => {
  // dog.jpg (768x576) enlarged 4x: 1/2 keeps both sides at least twice the detector's 512, 1/4 would not.
  const upright = fixture('objects/dog.jpg');
  const large = await sharp(upright).resize(3072, 2304, { kernel: 'cubic' }).jpeg({ quality: 92 }).toBuffer();
  const probe = await probeImage(large, defaultLimits);
  assert.equal(shrinkOnLoad(probe.format, 3072, 2304, 2048, 512), 2);
  const decoded = await decodeForModels(probe, 2048, 512);
  assert.deepEqual([decoded.width, decoded.height, decoded.originalWidth, decoded.originalHeight], [1536, 1152, 3072, 2304]);
  const small = await objects(upright, { model: 'centernet', top_k: 100, min_score: 0.3 });
  const big = await objects(large, { model: 'centernet', top_k: 100, min_score: 0.15 });
  assert.deepEqual([big.imageWidth, big.imageHeight], [3072, 2304]);
  assert.ok(small.objects.length >= 2, JSON.stringify(small.objects));
  for (const o of small.objects) {
    const scaled = { x: o.box.x * 4, y: o.box.y * 4, width: o.box.width * 4, height: o.box.height * 4 };
    const match = big.objects.find((m) => m.name === o.name && boxIou(m.box, scaled) > 0.8 && Math.abs(m.score - o.score) < 0.1);
    assert.ok(match, `${o.name} ${o.score} ${JSON.stringify(scaled)} not in ${JSON.stringify(big.objects)}`);
  }
});

test('shrinkOnLoad: within maxSide, then as small as keeps both sides at least 2x minSide; JPEG only', () => {
  assert.equal(shrinkOnLoad('jpeg', 4032, 3024, 2048), 2, 'a 12 MP photo within 2048: 1/2');
  assert.equal(shrinkOnLoad('jpeg', 4032, 3024, 2048, 512), 2, '1/4 would leave 756 < 1024');
  assert.equal(shrinkOnLoad('jpeg', 6000, 4000, 2048, 416), 4);
  assert.equal(shrinkOnLoad('jpeg', 6000, 4000, 2048, 112), 8);
  assert.equal(shrinkOnLoad('jpeg', 1352, 900, 2048, 416), 1, 'the kite fixture stays as stored');
  assert.equal(shrinkOnLoad('jpeg', 20000, 14000, 2048), 0, 'beyond 1/8: the caller resizes');
  assert.equal(shrinkOnLoad('png', 1352, 900, 2048, 112), 1);
  assert.equal(shrinkOnLoad('png', 4032, 3024, 2048), 0);
});

test('EXIF-orientation fixtures: the detection away from the digit in the middle keeps its box in every twin', async () => {
  for (const kind of ['landscape', 'portrait']) {
    const base = await objects(fixture(`formats/jpeg/exif-orientation/${kind}_1.jpg`), { model: 'centernet', top_k: 100, min_score: 0.15 });
    // The digit (1..8) differs between twins; only what lies outside the middle third is the same picture.
    const outside = base.objects.filter((o) => {
      const cx = (o.box.x + o.box.width / 2) / base.imageWidth;
      const cy = (o.box.y + o.box.height / 2) / base.imageHeight;
      return cx < 1 / 3 || cx > 2 / 3 || cy < 1 / 3 || cy > 2 / 3;
    });
    assert.ok(outside.length >= 1, `${kind}: ${JSON.stringify(base.objects)}`);
    for (let n = 2; n <= 8; n++) {
      const r = await objects(fixture(`formats/jpeg/exif-orientation/${kind}_${n}.jpg`), { model: 'centernet', top_k: 100, min_score: 0.05 });
      assert.deepEqual([r.imageWidth, r.imageHeight], [base.imageWidth, base.imageHeight]);
      for (const o of outside) {
        assert.ok(r.objects.some((m) => boxIou(m.box, o.box) > 0.8), `${kind}_${n}: ${JSON.stringify(o.box)} not in ${JSON.stringify(r.objects.map((m) => m.box))}`);
      }
    }
  }
});

test('every decodable format with listed objects: the same classes found (BMP, PNG, WebP, TIFF, GIF, grey, RGBA)', async () => {
  const formats = (manifest.files as unknown as (Listed & { path: string })[]).filter((f) => f.objects && f.path.startsWith('formats/') && !f.path.endsWith('.heic'));
  assert.ok(formats.length >= 8);
  for (const f of formats) {
    const r = await objects(fixture(f.path), { top_k: 100, min_score: 0.2 });
    for (const [name, count] of Object.entries(f.objects)) {
      if ((f.objects_range?.[name]?.[0] ?? count) === 0 || name === 'motorcycle') continue; // the scooter: range 0-1 in objects/dog.jpg
      const names = name === 'truck' ? ['truck', 'car'] : [name];
      assert.ok(r.objects.some((o) => names.includes(o.name)), `${f.path}: no ${name} in ${r.objects.map((o) => o.name)}`);
    }
  }
});

test('/metrics counts each model run with the time it took in its worker', async () => {
  const runs = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^imgsense_model_${name}\\{model="nanodet"\\} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
    return { count: value('run_seconds_count'), sum: value('run_seconds_sum'), cpu: value('cpu_seconds_total') };
  };
  const before = await runs();
  await objects(fixture('objects/dog.jpg'), { model: 'nanodet' });
  const after = await runs();
  assert.equal(after.count, before.count + 1, 'one detector run for one image');
  const wall = after.sum - before.sum;
  const cpu = after.cpu - before.cpu;
  assert.ok(wall > 0 && wall < 60, `a plausible run time: ${wall} s`);
  // NanoDet is tens of milliseconds of arithmetic: its CPU cannot be nil, nor exceed its wall time by much (1 thread).
  if (process.platform === 'linux') assert.ok(cpu > 0.001 && cpu < wall * 1.2 + 0.005, `CPU ${cpu} s for a run of ${wall} s`);
});
