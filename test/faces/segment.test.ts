import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { fixture } from '../helpers/fixtures.js';
import { createHuman } from '../helpers/human-reference.js';
import { form, postJson, startServer, type ErrorBody, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });

const portrait = fixture('faces/identities/penny/01.jpg'); // 150x150, the face fills the frame
const padded = fixture('faces/padded/identities/penny/01.jpg'); // 300x300, the same face on a grey margin

async function segment(image: Buffer, fields: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await postJson(server.url, '/v1/images/segment', { image: image.toString('base64'), ...fields }, headers);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200, bytes.toString('utf8', 0, 300));
  return { res, bytes };
}

async function refused(fields: Record<string, unknown>): Promise<{ status: number; body: ErrorBody }> {
  const res = await postJson(server.url, '/v1/images/segment', { image: portrait.toString('base64'), ...fields });
  return { status: res.status, body: (await res.json()) as ErrorBody };
}

/** Alpha (or grey) of the pixel at a fraction of the width and height. */
async function sample(bytes: Buffer, channel: number, fx: number, fy: number): Promise<number> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const x = Math.min(info.width - 1, Math.floor(fx * info.width));
  const y = Math.min(info.height - 1, Math.floor(fy * info.height));
  return data[(y * info.width + x) * info.channels + channel]!;
}

test('default cutout: a PNG with alpha at the original size; the middle of a portrait is foreground', async () => {
  const { res, bytes } = await segment(portrait);
  assert.equal(res.headers.get('content-type'), 'image/png');
  const meta = await sharp(bytes).metadata();
  assert.deepEqual([meta.width, meta.height, meta.channels, meta.hasAlpha], [150, 150, 4, true]);
  assert.ok((await sample(bytes, 3, 0.5, 0.5)) > 200, 'centre is kept');
});

test('cutout: the background it removed is not in the file (fully transparent pixels are black)', async () => {
  const { bytes } = await segment(padded);
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  let transparent = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    if (data[i + 3] !== 0) continue;
    transparent++;
    assert.deepEqual([data[i], data[i + 1], data[i + 2]], [0, 0, 0], `pixel ${i / info.channels}`);
  }
  assert.ok(transparent > (info.width * info.height) / 10, `${transparent} fully transparent pixels`);
});

test('padded portrait: background at the top corners, foreground in the middle (selfie and meet)', async () => {
  for (const model of ['selfie', 'meet']) {
    const { bytes } = await segment(padded, { model, mode: 'mask' });
    const meta = await sharp(bytes).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [300, 300, 1], model);
    assert.ok((await sample(bytes, 0, 0.5, 0.5)) > 200, `${model}: centre`);
    assert.ok((await sample(bytes, 0, 0.03, 0.03)) < 64, `${model}: top-left`);
    assert.ok((await sample(bytes, 0, 0.97, 0.03)) < 64, `${model}: top-right`);
  }
});

test('mode blur: a JPEG of the same size; the person is untouched, the background softened', async () => {
  const { res, bytes } = await segment(padded, { mode: 'blur', blur: 20 });
  assert.equal(res.headers.get('content-type'), 'image/jpeg');
  const meta = await sharp(bytes).metadata();
  assert.deepEqual([meta.width, meta.height, meta.channels], [300, 300, 3]);
});

test('mode replace with a colour: the background turns that colour, the face keeps its own', async () => {
  const { bytes } = await segment(padded, { mode: 'replace', background: '#00ff00', format: 'png' });
  const corner = await Promise.all([0, 1, 2].map((c) => sample(bytes, c, 0.03, 0.03)));
  assert.ok(corner[1]! > 200 && corner[0]! < 60 && corner[2]! < 60, `corner ${corner}`);
  const centre = await Promise.all([0, 1, 2].map((c) => sample(bytes, c, 0.5, 0.5)));
  assert.ok(!(centre[1]! > 200 && centre[0]! < 60), `centre ${centre}`);
});

test('mode replace with a second image, as base64 and as a multipart file', async () => {
  const red = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#ff0000' } }).png().toBuffer();
  const json = await segment(padded, { mode: 'replace', background_image: red.toString('base64'), format: 'png' });
  assert.ok((await sample(json.bytes, 0, 0.03, 0.03)) > 200);
  const fd = form(padded, { mode: 'replace', format: 'png' });
  fd.set('background_image', new Blob([new Uint8Array(red)]), 'bg.png');
  const res = await fetch(`${server.url}/v1/images/segment`, { method: 'POST', body: fd });
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200, bytes.toString('utf8', 0, 300));
  assert.ok((await sample(bytes, 0, 0.03, 0.03)) > 200);
  assert.ok((await sample(bytes, 1, 0.03, 0.03)) < 60);
});

test('JSON with base64 under Accept: application/json', async () => {
  const { bytes } = await segment(portrait, { mode: 'mask' }, { accept: 'application/json' });
  const body = JSON.parse(bytes.toString()) as { requestId: string; image: string; format: string; width: number; height: number; channels: number; bytes: number };
  assert.equal(body.format, 'png');
  assert.deepEqual([body.width, body.height, body.channels], [150, 150, 1]);
  const meta = await sharp(Buffer.from(body.image, 'base64')).metadata();
  assert.equal(meta.width, 150);
  assert.equal(Buffer.from(body.image, 'base64').length, body.bytes);
});

test('the mask agrees with the reference library running the same model (selfie, no feather)', { timeout: 300_000 }, async () => {
  // Both feed selfie the frame stretched by TF's legacy bilinear sampling and scale its mask back bilinearly;
  // the upsampling grids differ by half a mask pixel (ours is libvips' centred grid), so edges move a little.
  const human = await createHuman({ segmentation: { enabled: true, modelPath: 'selfie.json', mode: 'alpha' } });
  for (const path of ['faces/single/happy.jpg', 'faces/single/neutral.jpg', 'faces/padded/identities/amy/01.jpg', 'faces/groups/bbt3.jpg']) {
    const image = fixture(path);
    const ref = ((await human.detect(image)) as unknown as { dataSync(): ArrayLike<number> }).dataSync();
    const { bytes } = await segment(image, { mode: 'mask', feather: 0 });
    const { data } = await sharp(bytes).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    assert.equal(data.length, ref.length, path);
    let sum = 0;
    let flipped = 0;
    for (let i = 0; i < data.length; i++) {
      const d = Math.abs(data[i]! - ref[i]!);
      sum += d;
      if (d > 64) flipped++;
    }
    const mean = sum / data.length;
    const share = flipped / data.length;
    assert.ok(mean < 2.5, `${path}: mean difference ${mean.toFixed(2)} of 255`);
    assert.ok(share < 0.01, `${path}: ${(share * 100).toFixed(2)}% of pixels on the other side of the edge`);
  }
});

test('bad parameters name the parameter (rvm is not offered: it is not converted)', async () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ model: 'rvm' }, 'InvalidParameterValue', /^Expected one of selfie, meet for model but received "rvm"$/],
    [{ mode: 'sketch' }, 'InvalidParameterValue', /for mode but received "sketch"/],
    [{ mode: 'replace', background: 'green' }, 'InvalidParameterValue', /for background but received "green"/],
    [{ mode: 'replace' }, 'MissingParameter', /background/],
    [{ background: '#ffffff' }, 'InvalidParameter', /only with mode replace but received mode cutout/],
    [{ mode: 'blur', blur: 0 }, 'InvalidParameterValue', /^Expected number between 1 and 100 for blur but received 0$/],
    [{ mode: 'replace', background_image: 'bm90IGFuIGltYWdl' }, 'FailedOperation.ImageDecodeFailed', /^background_image: /],
  ];
  for (const [fields, code, message] of cases) {
    const { status, body } = await refused(fields);
    assert.equal(status, 400, JSON.stringify(fields));
    assert.equal(body.error.code, code, JSON.stringify(body));
    assert.match(body.error.message, message);
  }
});
