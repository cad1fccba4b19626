import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { convertEntry } from '../../src/inference/convert/index.js';
import { builtinModels } from '../../src/inference/registry.js';
import { fixture } from '../helpers/fixtures.js';
import { postForm, postJson, startServer, type ErrorBody, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });

interface Label { name: string; nameEn: string; nameZh: string; confidence: number; category: string; source: string }

async function post(route: string, image: Buffer, fields: Record<string, unknown>, base = server.url): Promise<any> {
  const res = await postForm(base, route, image, fields);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

test('labels: the listed objects of each photo, with their COCO supercategory, sorted, 0..100', async () => {
  const expected: [string, string[]][] = [
    ['objects/giraffe.jpg', ['giraffe', 'zebra']],
    ['objects/horses.jpg', ['horse']],
    ['objects/person.jpg', ['person', 'dog', 'horse']],
    ['objects/eagle.jpg', ['bird']],
  ];
  for (const [path, names] of expected) {
    const { labels } = (await post('/v1/vision/labels', fixture(path), {})) as { labels: Label[] };
    for (const n of names) {
      const l = labels.find((x) => x.name === n);
      assert.ok(l, `${path}: ${n} not in ${labels.map((x) => x.name)}`);
      assert.equal(l.source, 'objects');
      assert.ok(l.confidence >= 30 && l.confidence <= 100 && Number.isInteger(l.confidence));
    }
    for (let i = 1; i < labels.length; i++) assert.ok(labels[i - 1]!.confidence >= labels[i]!.confidence);
    assert.ok(labels.every((l) => l.source !== 'moderation' || l.category === 'illustration'), `${path}: no moderation label on a neutral photo`);
  }
  const giraffe = ((await post('/v1/vision/labels', fixture('objects/giraffe.jpg'), { lang: 'zh', top_k: 1 })) as { labels: Label[] }).labels;
  assert.equal(giraffe.length, 1);
  assert.equal(giraffe[0]!.category, '动物');
  assert.equal(giraffe[0]!.name, giraffe[0]!.nameZh);
  assert.ok(['长颈鹿', '斑马'].includes(giraffe[0]!.name));
  const en = ((await post('/v1/vision/labels', fixture('objects/giraffe.jpg'), { top_k: 1 })) as { labels: Label[] }).labels[0]!;
  assert.equal(en.category, 'animal');
});

test('labels: a cartoon-like animation frame is labelled as a drawing (illustration), from the moderation model', async () => {
  const { labels } = (await post('/v1/vision/labels', fixture('formats/gif/animated-loop-3.gif'), {})) as { labels: Label[] };
  const drawing = labels.find((l) => l.nameEn === 'drawing');
  assert.ok(drawing, JSON.stringify(labels));
  assert.deepEqual([drawing.category, drawing.source], ['illustration', 'moderation']);
});

test('labels: bad lang and top_k are 400s naming the parameter', async () => {
  for (const [fields, message] of [
    [{ lang: 'fr' }, /^Expected one of en, zh for lang but received "fr"$/],
    [{ top_k: 51 }, /^Expected integer between 1 and 50 for top_k but received 51$/],
  ] as const) {
    const res = await postForm(server.url, '/v1/vision/labels', fixture('objects/eagle.jpg'), fields);
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as ErrorBody).error.message, message);
  }
});

async function decodes(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return [...text.matchAll(/^imgsense_model_decodes_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

test('analyze: objects, labels and moderation from one decode, each part as its own endpoint answers it', async () => {
  const image = fixture('objects/person.jpg');
  const before = await decodes();
  const r = await post('/v1/vision/analyze', image, { features: ['objects', 'labels', 'moderation'], objects: { top_k: 10 } });
  assert.equal(await decodes(), before + 1, 'one decode for three features');
  assert.deepEqual(Object.keys(r).sort(), ['labels', 'moderation', 'objects', 'requestId']);
  const objects = await post('/v1/vision/objects', image, { top_k: 10 });
  const labels = await post('/v1/vision/labels', image, {});
  const moderation = await post('/v1/vision/moderation', image, {});
  assert.deepEqual(r.objects, objects.objects);
  assert.deepEqual(r.labels, labels.labels);
  const { requestId: _id, ...mod } = moderation;
  assert.deepEqual(r.moderation, mod);
  const listed = await post('/v1/vision/analyze', image, { features: 'objects, moderation' });
  assert.deepEqual(Object.keys(listed).filter((k) => k !== 'requestId').sort(), ['moderation', 'objects'], 'a form field may list the features separated by commas');
  const only = await post('/v1/vision/analyze', image, { features: ['moderation'] });
  assert.deepEqual(Object.keys(only).sort(), ['moderation', 'requestId']);
  // JSON works the same
  const res = await postJson(server.url, '/v1/vision/analyze', { image: image.toString('base64'), features: ['objects'], objects: { classes: ['dog'] } });
  const body = (await res.json()) as { objects: { name: string }[] };
  assert.ok(body.objects.length >= 1 && body.objects.every((o) => o.name === 'dog'));
});

test('analyze: faces from the same decode, as /v1/faces/detect answers them', async () => {
  const image = fixture('faces/groups/bbt1.jpg');
  const before = await decodes();
  const r = await post('/v1/vision/analyze', image, { features: ['objects', 'faces'], faces: { attributes: ['gender'] } });
  assert.equal(await decodes(), before + 1, 'one decode for objects and faces');
  const alone = (await post('/v1/faces/detect', image, { attributes: ['gender'] })) as { faces: unknown[] };
  assert.equal((r.faces as unknown[]).length, 4);
  assert.deepEqual(r.faces, alone.faces);
});

test('analyze: bad features and params are 400s naming them', async () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ features: ['colours'] }, 'InvalidParameterValue', /^Expected one of objects, labels, moderation, faces for features\[0\] but received "colours"$/],
    [{ features: [] }, 'InvalidParameterValue', /for features but received an array of 0/],
    [{}, 'MissingParameter', /for features but received nothing/],
    [{ features: ['objects'], objects: { top_k: 500 } }, 'InvalidParameterValue', /^Expected integer between 1 and 100 for objects.top_k but received 500$/],
    [{ features: ['objects'], moderation: {} }, 'InvalidParameter', /moderation parameters only with moderation in features/],
    [{ features: ['faces'], faces: { max_faces: 0 } }, 'InvalidParameterValue', /max_faces but received 0$/],
  ];
  for (const [fields, code, message] of cases) {
    const res = await postForm(server.url, '/v1/vision/analyze', fixture('objects/eagle.jpg'), fields);
    const body = (await res.json()) as ErrorBody;
    assert.equal(res.status, 400, JSON.stringify(fields));
    assert.equal(body.error.code, code, JSON.stringify(body));
    assert.match(body.error.message, message);
  }
});

test('OpenAPI lists the four vision routes with their parameters', async () => {
  const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, any> };
  for (const route of ['/v1/vision/objects', '/v1/vision/labels', '/v1/vision/moderation', '/v1/vision/analyze']) {
    assert.ok(doc.paths[route]?.post, route);
    assert.ok(doc.paths[route].post.responses['200'], route);
    assert.ok(doc.paths[route].post.responses['400'], route);
  }
  const body = JSON.stringify(doc.paths['/v1/vision/objects'].post.requestBody);
  for (const p of ['top_k', 'min_score', 'classes', 'model', 'potted plant']) assert.ok(body.includes(p), p);
  assert.ok(JSON.stringify(doc.paths['/v1/vision/analyze'].post.requestBody).includes('faces'));
});

test('labels: an operator classifier with declared labels contributes its top classes', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-labels-'));
  const custom = path.join(dir, 'models', 'custom');
  mkdirSync(custom, { recursive: true });
  // The emotion model stands in for an operator's ImageNet classifier: an ONNX file and its manifest.
  writeFileSync(path.join(custom, 'expressions.onnx'), convertEntry(builtinModels.find((m) => m.id === 'emotion')!).onnx);
  writeFileSync(path.join(custom, 'expressions.json'), JSON.stringify({
    id: 'my-expressions', task: 'classification', file: 'expressions.onnx', licence: 'MIT',
    input: { size: [64, 64], layout: 'nhwc', channels: 1, range: [0, 1], batch: 'dynamic' },
    labels: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'],
  }));
  const own = await startServer({ IMGSENSE_DATA_DIR: dir });
  try {
    const { labels } = (await post('/v1/vision/labels', fixture('faces/single/happy.jpg'), {}, own.url)) as { labels: Label[] };
    const happy = labels.find((l) => l.source === 'my-expressions');
    assert.ok(happy, JSON.stringify(labels));
    assert.deepEqual([happy.name, happy.category], ['happy', 'my-expressions']);
  } finally {
    await own.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
