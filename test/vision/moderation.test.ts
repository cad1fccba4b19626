import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { fixture } from '../helpers/fixtures.js';
import { postForm, startServer, type ErrorBody, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => { server = await startServer({ IMGSENSE_MODERATION_FRAMES: '4' }); });
after(async () => { await server.close(); });

type Scores = Record<'drawing' | 'hentai' | 'neutral' | 'porn' | 'sexy', number>;
interface ModerationBody { requestId: string; model: string; suggestion: string; scores: Scores; frames?: { total: number; judged: number[]; worst: number } }

async function moderate(image: Buffer, fields: Record<string, unknown> = {}): Promise<ModerationBody> {
  const res = await postForm(server.url, '/v1/vision/moderation', image, fields);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body as ModerationBody;
}

const neutralPhotos = [
  'objects/dog.jpg', 'objects/eagle.jpg', 'objects/giraffe.jpg', 'objects/horses.jpg', 'objects/kite.jpg', 'objects/person.jpg',
  'formats/jpeg/baseline.jpg', 'formats/webp/lossy.webp', 'formats/gif/static-photo.gif', 'formats/png/rgba8-photo.png',
  'faces/groups/bbt1.jpg', 'faces/groups/bbt2.jpg', 'faces/groups/bbt3.jpg', 'faces/groups/bbt4.jpg', 'faces/groups/bbt5.jpg',
];

test('neutral photos are judged Pass, with five scores summing to 1 and neutral the largest', async () => {
  for (const path of neutralPhotos) {
    const r = await moderate(fixture(path));
    assert.equal(r.suggestion, 'Pass', `${path}: ${JSON.stringify(r.scores)}`);
    assert.equal(r.model, 'nsfw-mobilenet-v2');
    assert.deepEqual(Object.keys(r.scores).sort(), ['drawing', 'hentai', 'neutral', 'porn', 'sexy']);
    const sum = Object.values(r.scores).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 0.002, `${path}: sum ${sum}`);
    assert.equal(Math.max(...Object.values(r.scores)), r.scores.neutral, path);
    assert.equal(r.frames, undefined, 'still images have no frames');
  }
});

test('every moderation model answers; an unknown one is a 400 naming model', async () => {
  for (const model of ['nsfw-mobilenet-v2-mid', 'nsfw-inception-v3']) {
    const r = await moderate(fixture('objects/horses.jpg'), { model });
    assert.equal(r.model, model);
    assert.equal(r.suggestion, 'Pass');
  }
  const res = await postForm(server.url, '/v1/vision/moderation', fixture('objects/horses.jpg'), { model: 'nsfw' });
  assert.equal(res.status, 400);
  assert.match(((await res.json()) as ErrorBody).error.message, /^Expected one of nsfw-mobilenet-v2, nsfw-mobilenet-v2-mid, nsfw-inception-v3 for model but received "nsfw"$/);
});

/** The frame as a still PNG, composed onto the canvas as a player shows it. */
const frameAsPng = (bytes: Buffer, page: number) => sharp(bytes, { page, pages: 1 }).png().toBuffer();
const explicit = (s: Scores) => s.porn + s.hentai;
const suggestive = (s: Scores) => s.porn + s.hentai + s.sexy;

for (const path of ['formats/gif/animated-loop-3.gif', 'formats/webp/animated-loop-3.webp', 'formats/gif/animated-rotating-squares.gif']) {
  test(`animated ${path}: evenly spaced frames judged, the worst frame's scores answered`, async () => {
    const bytes = fixture(path);
    const r = await moderate(bytes);
    const total = (await sharp(bytes).metadata()).pages!;
    assert.ok(r.frames, 'frames reported');
    assert.equal(r.frames.total, total);
    assert.equal(r.frames.judged.length, Math.min(4, total), 'IMGSENSE_MODERATION_FRAMES bounds the frames judged');
    assert.equal(r.frames.judged[0], 0);
    assert.equal(r.frames.judged.at(-1), total - 1);
    assert.ok(r.frames.judged.includes(r.frames.worst));
    // Each judged frame on its own, as a still image: the answer is the worst of them, frame and scores.
    const each = await Promise.all(r.frames.judged.map(async (i) => ({ i, s: (await moderate(await frameAsPng(bytes, i))).scores })));
    let worst = each[0]!;
    for (const e of each) if (explicit(e.s) > explicit(worst.s) || (explicit(e.s) === explicit(worst.s) && suggestive(e.s) > suggestive(worst.s))) worst = e;
    for (const k of Object.keys(r.scores) as (keyof Scores)[]) assert.ok(Math.abs(r.scores[k] - worst.s[k]) < 0.02, `${k}: ${r.scores[k]} vs frame ${worst.i} ${worst.s[k]}`);
    for (const e of each) assert.ok(explicit(e.s) <= explicit(r.scores) + 0.02, `frame ${e.i} is worse than the answer`);
  });
}
