import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { fixture, manifest } from '../helpers/fixtures.js';
import { postForm, postJson, startServer, type ErrorBody, type TestServer } from '../helpers/server.js';

interface Face {
  box: { x: number; y: number; width: number; height: number };
  score: number;
  landmarks: { name: string; x: number; y: number }[];
  attributes?: Record<string, any>;
  tooSmall?: boolean;
}
interface Result { requestId: string; imageWidth: number; imageHeight: number; faces: Face[] }

let server: TestServer;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });

async function detect(image: Buffer, fields: Record<string, unknown> = {}, srv = server): Promise<Result> {
  const res = await postJson(srv.url, '/v1/faces/detect', { image: image.toString('base64'), ...fields });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body as Result;
}

async function refused(fields: Record<string, unknown>, image: Buffer | null = fixture('faces/single/happy.jpg')): Promise<{ status: number; body: ErrorBody }> {
  const res = await postJson(server.url, '/v1/faces/detect', { ...(image && { image: image.toString('base64') }), ...fields });
  return { status: res.status, body: (await res.json()) as ErrorBody };
}

const entries = (prefix: string) => manifest.files.filter((f) => f.path.startsWith(prefix)) as (typeof manifest.files[number] & { faces?: number; faces_range?: [number, number]; identity?: string })[];

test('group photos: the face count of each is within its stated range, largest face first', async () => {
  const groups = entries('faces/groups/');
  assert.equal(groups.length, 5);
  for (const g of groups) {
    const [min, max] = g.faces_range ?? [g.faces!, g.faces!];
    const r = await detect(fixture(g.path));
    assert.ok(r.faces.length >= min && r.faces.length <= max, `${g.path}: ${r.faces.length} faces, expected ${min}..${max}`);
    assert.deepEqual([r.imageWidth, r.imageHeight], [g.width, g.height]);
    const areas = r.faces.map((f) => f.box.width * f.box.height);
    assert.deepEqual(areas, [...areas].sort((a, b) => b - a), `${g.path}: largest first`);
    for (const f of r.faces) {
      assert.ok(f.box.x >= 0 && f.box.y >= 0 && f.box.x + f.box.width <= g.width! && f.box.y + f.box.height <= g.height!, `${g.path}: box inside the image`);
      assert.ok(f.score >= 0.6 && f.score <= 1);
    }
  }
});

test('single-face photos: exactly one face; landmarks named, inside the box, eyes above the mouth', async () => {
  for (const s of entries('faces/single/')) {
    const r = await detect(fixture(s.path));
    assert.equal(r.faces.length, 1, s.path);
    const f = r.faces[0]!;
    const lm = Object.fromEntries(f.landmarks.map((l) => [l.name, l]));
    assert.deepEqual(Object.keys(lm), ['rightEye', 'leftEye', 'nose', 'mouth', 'rightEar', 'leftEar']);
    assert.ok(lm.rightEye!.x < lm.leftEye!.x, `${s.path}: the subject's right eye is on the image's left`);
    assert.ok(lm.rightEye!.y < lm.mouth!.y && lm.leftEye!.y < lm.mouth!.y, s.path);
    for (const l of f.landmarks) {
      assert.ok(l.x >= f.box.x - 2 && l.x <= f.box.x + f.box.width + 2 && l.y >= f.box.y - 2 && l.y <= f.box.y + f.box.height + 2, `${s.path}: ${l.name} inside the box`);
    }
  }
});

test('a group photo padded into a wide panorama: the squares find the faces the whole-image pass misses', async () => {
  // Black sides shrink the faces in the whole-image pass (bbt2 at aspect 2.5: 2 of 3 found; bbt3 at aspect 5:
  // 2 of 5) while the squares of the shorter side still see them at their own size.
  const pad = async (path: string, aspect: number) => {
    const src = fixture(path);
    const { width, height } = await sharp(src).metadata();
    const extra = Math.round(height! * aspect) - width!;
    return sharp(src).extend({ left: Math.floor(extra / 2), right: Math.ceil(extra / 2), background: '#000000' }).jpeg({ quality: 92 }).toBuffer();
  };
  assert.equal((await detect(await pad('faces/groups/bbt2.jpg', 2.5))).faces.length, 3);
  assert.ok((await detect(await pad('faces/groups/bbt3.jpg', 5))).faces.length >= 4);
});

test('no-face photos (animals, landscape, a person seen from behind): no face', async () => {
  const none = entries('faces/none/');
  assert.ok(none.length >= 5);
  for (const n of none) assert.equal((await detect(fixture(n.path))).faces.length, 0, n.path);
});

test('tight identity crops (the face fills the frame) are found once, like their padded twins', async () => {
  for (const e of entries('faces/identities/').filter((f) => f.path.endsWith('/01.jpg') || f.path.endsWith('/04.jpg'))) {
    assert.equal((await detect(fixture(e.path))).faces.length, 1, e.path);
  }
});

test('attributes "all": emotion of the clearly happy and surprised photos; all attributes shaped and in range', async () => {
  const happy = (await detect(fixture('faces/single/happy.jpg'), { attributes: 'all' })).faces[0]!.attributes!;
  assert.equal(happy.emotion.value, 'happy');
  assert.ok(happy.emotion.scores.happy > 0.9);
  assert.deepEqual(Object.keys(happy.emotion.scores), ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);
  assert.equal((await detect(fixture('faces/single/surprised.jpg'), { attributes: ['emotion'] })).faces[0]!.attributes!.emotion.value, 'surprise');
  assert.deepEqual(Object.keys(happy), ['age', 'gender', 'emotion', 'pose', 'quality', 'liveness']);
  assert.ok(happy.age > 15 && happy.age < 60);
  assert.equal(happy.gender.value, 'female');
  for (const k of ['yaw', 'pitch', 'roll']) assert.ok(Math.abs(happy.pose[k]) < 45, `pose ${k} of a frontal face`);
  assert.ok(happy.quality.score >= 0 && happy.quality.score <= 100);
  assert.ok(happy.quality.size > 100);
  assert.ok(happy.liveness.score >= 0 && happy.liveness.score <= 1);
});

test('only the attributes asked for; none without the field', async () => {
  const r = await detect(fixture('faces/single/neutral.jpg'), { attributes: ['age', 'pose'] });
  assert.deepEqual(Object.keys(r.faces[0]!.attributes!), ['age', 'pose']);
  assert.equal((await detect(fixture('faces/single/neutral.jpg'))).faces[0]!.attributes, undefined);
});

test('gender and age on identity crops of people who are clearly one gender (padded, 5 photos each)', async () => {
  const expected: Record<string, string> = { amy: 'female', penny: 'female', leonard: 'male', raj: 'male' };
  for (const e of entries('faces/padded/identities/').filter((f) => expected[f.identity ?? ''])) {
    const f = (await detect(fixture(e.path), { attributes: ['gender', 'age'] })).faces[0]!;
    assert.equal(f.attributes!.gender.value, expected[e.identity!], e.path);
    assert.ok(f.attributes!.age >= 15 && f.attributes!.age <= 60, `${e.path}: age ${f.attributes!.age}`);
  }
});

test('EXIF orientation: the same boxes for an image and its rotated twins (coordinates after orientation)', async () => {
  const upright = await sharp(fixture('faces/groups/bbt3.jpg')).jpeg({ quality: 95 }).toBuffer();
  const base = await detect(upright);
  const key = (r: Result) => r.faces.map((f) => f.box).sort((a, b) => a.x - b.x);
  // Stored pixels turned the other way, with the tag that turns them back: 3 = 180, 6 = 90 cw, 8 = 270 cw.
  for (const [orientation, angle] of [[3, 180], [6, 270], [8, 90]] as const) {
    const raw = await sharp(upright).rotate(angle).toBuffer();
    const twin = await sharp(raw).withMetadata({ orientation }).jpeg({ quality: 95 }).toBuffer();
    const r = await detect(twin);
    assert.deepEqual([r.imageWidth, r.imageHeight], [base.imageWidth, base.imageHeight], `orientation ${orientation}`);
    assert.equal(r.faces.length, base.faces.length, `orientation ${orientation}`);
    key(r).forEach((b, i) => {
      const a = key(base)[i]!;
      for (const k of ['x', 'y', 'width', 'height'] as const) assert.ok(Math.abs(a[k] - b[k]) <= 4, `orientation ${orientation}: ${k} ${a[k]} vs ${b[k]}`);
    });
  }
});

test('GIF: the first frame is read', async () => {
  const face = await sharp(fixture('faces/single/happy.jpg')).png().toBuffer();
  const grey = await sharp({ create: { width: 500, height: 282, channels: 3, background: '#808080' } }).png().toBuffer();
  const faceFirst = await sharp([face, grey], { join: { animated: true } }).gif().toBuffer();
  const greyFirst = await sharp([grey, face], { join: { animated: true } }).gif().toBuffer();
  assert.equal((await detect(faceFirst)).faces.length, 1);
  assert.equal((await detect(greyFirst)).faces.length, 0);
});

test('max_faces keeps the largest; multipart with attributes as text', async () => {
  const all = await detect(fixture('faces/groups/bbt4.jpg'));
  const two = await detect(fixture('faces/groups/bbt4.jpg'), { max_faces: 2 });
  assert.deepEqual(two.faces.map((f) => f.box), all.faces.slice(0, 2).map((f) => f.box));
  const res = await postForm(server.url, '/v1/faces/detect', fixture('faces/single/happy.jpg'), { attributes: 'emotion,age', max_faces: '3' });
  const body = (await res.json()) as Result;
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.deepEqual(Object.keys(body.faces[0]!.attributes!), ['age', 'emotion']);
  assert.match(body.requestId, /\S/);
});

test('faces below IMGSENSE_FACE_MIN_SIZE are reported with tooSmall, without attributes, never dropped', async () => {
  const strict = await startServer({ IMGSENSE_FACE_MIN_SIZE: '56' });
  try {
    const r = await detect(fixture('faces/groups/bbt3.jpg'), { attributes: ['age'] }, strict);
    const normal = await detect(fixture('faces/groups/bbt3.jpg'));
    assert.equal(r.faces.length, normal.faces.length);
    const small = r.faces.filter((f) => f.tooSmall);
    assert.ok(small.length >= 1 && small.length < r.faces.length, `${small.length} of ${r.faces.length} too small`);
    for (const f of r.faces) {
      if (f.tooSmall) assert.ok(Math.min(f.box.width, f.box.height) < 56 && f.attributes === undefined);
      else assert.ok(f.attributes!.age > 0 && f.tooSmall === undefined);
    }
  } finally {
    await strict.close();
  }
});

test('bad parameters: catalogued 4xx naming the parameter, the allowed values and what was received', async () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ max_faces: 0 }, 'InvalidParameterValue', /^Expected integer between 1 and 120 for max_faces but received 0$/],
    [{ max_faces: 121 }, 'InvalidParameterValue', /for max_faces but received 121/],
    [{ attributes: ['age', 'wrinkles'] }, 'InvalidParameterValue', /^Expected one of age, gender, emotion, pose, quality, liveness, all for attributes\[1\] but received "wrinkles"$/],
    [{ attributes: 'mood' }, 'InvalidParameterValue', /for attributes\[0\] but received "mood"/],
    [{ attributes: 7 }, 'InvalidParameterValue', /for attributes but received 7/],
    [{ min_score: 2 }, 'InvalidParameterValue', /^Expected number between 0 and 1 for min_score but received 2$/],
    [{ bogus: 1 }, 'InvalidParameter', /received "bogus"/],
  ];
  for (const [fields, code, message] of cases) {
    const { status, body } = await refused(fields);
    assert.equal(status, 400, JSON.stringify(fields));
    assert.equal(body.error.code, code, JSON.stringify(body));
    assert.match(body.error.message, message);
  }
  const none = await refused({}, null);
  assert.equal(none.body.error.code, 'MissingParameter');
  const broken = await refused({}, Buffer.from('not an image at all'));
  assert.equal(broken.status, 400);
  assert.match(broken.body.error.code, /^FailedOperation\./);
});

test('OpenAPI lists /v1/faces/detect and /v1/images/segment', async () => {
  const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, { post?: { tags?: string[] } }> };
  assert.deepEqual(doc.paths['/v1/faces/detect']?.post?.tags, ['faces']);
  assert.deepEqual(doc.paths['/v1/images/segment']?.post?.tags, ['images']);
});

test('quality: a blurred copy of a face reads less sharp and scores lower; a darkened one reads darker', async () => {
  const original = fixture('faces/single/neutral.jpg');
  const q = async (img: Buffer) => (await detect(img, { attributes: ['quality'] })).faces[0]!.attributes!.quality;
  const base = await q(original);
  const blurred = await q(await sharp(original).blur(3).jpeg({ quality: 95 }).toBuffer());
  const dark = await q(await sharp(original).linear(0.4, 0).jpeg({ quality: 95 }).toBuffer());
  assert.ok(blurred.sharpness < base.sharpness / 2, `sharpness ${blurred.sharpness} vs ${base.sharpness}`);
  assert.ok(blurred.score < base.score);
  assert.ok(dark.brightness < base.brightness * 0.6, `brightness ${dark.brightness} vs ${base.brightness}`);
});
