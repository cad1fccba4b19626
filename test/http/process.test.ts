import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { fixture } from '../helpers/fixtures.js';
import { postForm, postJson, startServer, type ErrorBody, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });

const photo = fixture('formats/jpeg/baseline.jpg'); // 2725x2225
const small = fixture('formats/png/rgb8.png');

async function run(image: Buffer, operations: unknown[], output: Record<string, unknown> = {}): Promise<{ res: Response; bytes: Buffer }> {
  const res = await postForm(server.url, '/v1/images/process', image, { operations, output });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

async function ok(image: Buffer, operations: unknown[], output: Record<string, unknown> = {}) {
  const { res, bytes } = await run(image, operations, output);
  assert.equal(res.status, 200, bytes.toString('utf8', 0, 300));
  return { res, bytes, meta: await sharp(bytes).metadata() };
}

async function mean(bytes: Buffer) {
  const { channels } = await sharp(bytes).stats();
  return channels.map((c) => c.mean);
}

test('resize: fit inside keeps the aspect ratio and never enlarges unless asked', async () => {
  const { meta, res } = await ok(photo, [{ op: 'resize', width: 512, height: 512 }], { format: 'jpeg', quality: 80 });
  assert.deepEqual([meta.width, meta.height], [512, Math.round((2225 * 512) / 2725)]);
  assert.equal(res.headers.get('content-type'), 'image/jpeg');
  assert.equal(res.headers.get('x-image-width'), '512');
  const same = await ok(small, [{ op: 'resize', width: 5000 }]);
  assert.equal(same.meta.width, (await sharp(small).metadata()).width);
  const bigger = await ok(small, [{ op: 'resize', width: 1000, enlarge: true }]);
  assert.equal(bigger.meta.width, 1000);
  const cover = await ok(photo, [{ op: 'resize', width: 300, height: 100, fit: 'cover', position: 'attention' }]);
  assert.deepEqual([cover.meta.width, cover.meta.height], [300, 100]);
  const fill = await ok(photo, [{ op: 'resize', width: 300, height: 100, fit: 'fill', kernel: 'nearest' }]);
  assert.deepEqual([fill.meta.width, fill.meta.height], [300, 100]);
  const contain = await ok(photo, [{ op: 'resize', width: 300, height: 100, fit: 'contain', background: '#ff0000' }], { format: 'png' });
  assert.deepEqual([contain.meta.width, contain.meta.height], [300, 100]);
  const { data } = await sharp(contain.bytes).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([...data.subarray(0, 3)], [255, 0, 0], 'contain pads with the background colour');
});

test('crop: a box, a smart crop, and a box outside the image', async () => {
  const box = await ok(photo, [{ op: 'crop', x: 100, y: 50, width: 300, height: 200 }]);
  assert.deepEqual([box.meta.width, box.meta.height], [300, 200]);
  const smart = await ok(photo, [{ op: 'crop', width: 400, height: 400, strategy: 'entropy' }]);
  assert.deepEqual([smart.meta.width, smart.meta.height], [400, 400]);
  const { res, bytes } = await run(photo, [{ op: 'resize', width: 100 }, { op: 'crop', x: 50, y: 0, width: 100, height: 10 }]);
  assert.equal(res.status, 400);
  assert.match(JSON.parse(bytes.toString()).error.message, /Expected a box inside the 100x82 image for operations\[1\] but received "x=50 y=0 width=100 height=10"/);
});

test('operations run in the order given', async () => {
  const a = await ok(photo, [{ op: 'rotate', angle: 90 }, { op: 'resize', width: 100 }]);
  const b = await ok(photo, [{ op: 'resize', width: 100 }, { op: 'rotate', angle: 90 }]);
  assert.deepEqual([a.meta.width, a.meta.height], [100, Math.round((2725 * 100) / 2225)]);
  assert.deepEqual([b.meta.width, b.meta.height], [Math.round((2225 * 100) / 2725), 100]);
});

test('rotate by any angle grows the canvas; flip and flop mirror', async () => {
  const r = await ok(small, [{ op: 'rotate', angle: 45, background: '#ffffff' }]);
  const m = await sharp(small).metadata();
  assert.ok(r.meta.width! > m.width! && r.meta.height! > m.height!);
  // A left-to-right gradient: flop reverses it, flip keeps it.
  const gradient = await sharp(Buffer.from(Array.from({ length: 64 * 8 * 3 }, (_, i) => Math.floor(((i / 3) % 64) * 4))), { raw: { width: 64, height: 8, channels: 3 } }).png().toBuffer();
  const left = async (bytes: Buffer) => (await sharp(bytes).raw().toBuffer())[0]!;
  assert.ok((await left((await ok(gradient, [{ op: 'flop' }])).bytes)) > 200);
  assert.ok((await left((await ok(gradient, [{ op: 'flip' }])).bytes)) < 10);
});

test('tone and filter steps change the pixels the way they say', async () => {
  const base = await mean(small);
  const grey = await ok(small, [{ op: 'grayscale' }], { format: 'png' });
  const { data, info } = await sharp(grey.bytes).raw().toBuffer({ resolveWithObject: true });
  for (let i = 0; i < data.length; i += info.channels * 97) assert.ok(info.channels === 1 || (data[i] === data[i + 1] && data[i + 1] === data[i + 2]));
  const brighter = await mean((await ok(small, [{ op: 'modulate', brightness: 1.5 }], { format: 'png' })).bytes);
  assert.ok(brighter[0]! > base[0]!);
  const gamma = await ok(small, [{ op: 'gamma', gamma: 2.2 }], { format: 'png' });
  assert.equal(gamma.meta.width, (await sharp(small).metadata()).width);
  const blurStd = (await sharp((await ok(small, [{ op: 'blur', sigma: 5 }], { format: 'png' })).bytes).stats()).channels[0]!.stdev;
  const sharpStd = (await sharp((await ok(small, [{ op: 'sharpen', sigma: 2 }], { format: 'png' })).bytes).stats()).channels[0]!.stdev;
  const baseStd = (await sharp(small).stats()).channels[0]!.stdev;
  assert.ok(blurStd < baseStd && sharpStd >= baseStd * 0.99, `${blurStd} ${baseStd} ${sharpStd}`);
  const dull = await sharp(small).linear(0.5, 60).png().toBuffer();
  const normalised = (await sharp((await ok(dull, [{ op: 'normalize' }], { format: 'png' })).bytes).stats()).channels[0]!;
  const dullStats = (await sharp(dull).stats()).channels[0]!;
  assert.ok(normalised.max - normalised.min > dullStats.max - dullStats.min, 'normalize stretches the range');
});

test('watermark: text and image marks change the corner they are placed in', async () => {
  const plain = await sharp(photo).resize(400).png().toBuffer();
  // stats() reads the pipeline's input, so the region is cut out first.
  const corner = async (bytes: Buffer, left: number, top: number) =>
    (await sharp(await sharp(bytes).extract({ left, top, width: 120, height: 60 }).png().toBuffer()).stats()).channels[0]!.mean;
  const text = await ok(plain, [{ op: 'watermark', text: 'imgsense', position: 'southeast', opacity: 1, colour: '#ffffff', size: 0.3 }], { format: 'png' });
  assert.ok((await corner(text.bytes, 400 - 140, 327 - 76)) > (await corner(plain, 400 - 140, 327 - 76)) + 10, 'white text brightens the south-east corner');
  assert.ok(Math.abs((await corner(text.bytes, 0, 0)) - (await corner(plain, 0, 0))) < 1, 'and leaves the north-west corner alone');
  const mark = await sharp({ create: { width: 50, height: 50, channels: 4, background: '#ff0000ff' } }).png().toBuffer();
  const img = await ok(plain, [{ op: 'watermark', image: mark.toString('base64'), position: 'northwest', margin: 0, opacity: 1, size: 0.1 }], { format: 'png' });
  const { data } = await sharp(img.bytes).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([...data.subarray(0, 3)], [255, 0, 0]);
  const { res } = await run(plain, [{ op: 'watermark' }]);
  assert.equal(res.status, 400);
});

test('strip-metadata drops EXIF; without it the descriptive EXIF is kept, in one step or several', async () => {
  const withMeta = fixture('formats/jpeg/metadata-iptc-xmp.jpg');
  const exifReader = (await import('exif-reader')).default;
  for (const operations of [[{ op: 'resize', width: 100 }], [{ op: 'resize', width: 100 }, { op: 'flop' }]]) {
    const kept = await ok(withMeta, operations);
    const exif = exifReader(kept.meta.exif!);
    assert.equal(exif.Image?.Make, 'Canon', 'camera make kept');
    assert.equal(exif.Image?.Model, 'Canon EOS 5D Mark III');
    assert.ok(exif.Image?.DateTime instanceof Date, 'date kept');
    assert.equal(exif.GPSInfo, undefined, 'no GPS block');
    assert.equal(kept.meta.xmp, undefined, 'XMP is not copied');
  }
  const withIcc = fixture('faces/groups/bbt1.jpg');
  assert.ok((await ok(withIcc, [{ op: 'resize', width: 100 }])).meta.hasProfile, 'one step keeps the ICC profile');
  assert.ok(!(await ok(withIcc, [{ op: 'resize', width: 100 }, { op: 'strip-metadata' }])).meta.hasProfile);
  const stripped = await ok(withMeta, [{ op: 'resize', width: 100 }, { op: 'strip-metadata' }]);
  assert.equal(stripped.meta.exif, undefined);
  assert.equal(stripped.meta.xmp, undefined);
});

test('every output format, with its options', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ format: 'jpeg', quality: 50, progressive: true }, 'jpeg'],
    [{ format: 'png', progressive: true, effort: 9 }, 'png'],
    [{ format: 'webp', quality: 60, effort: 2 }, 'webp'],
    [{ format: 'webp', lossless: true }, 'webp'],
    [{ format: 'avif', quality: 40, effort: 0 }, 'heif'],
    [{ format: 'gif' }, 'gif'],
    [{ format: 'tiff', quality: 70 }, 'tiff'],
    [{ format: 'tiff' }, 'tiff'],
  ];
  for (const [output, format] of cases) {
    const { meta, res } = await ok(small, [{ op: 'resize', width: 64 }], output);
    assert.equal(meta.format, format, JSON.stringify(output));
    assert.match(res.headers.get('content-type')!, /^image\//);
  }
  const q10 = (await ok(photo, [{ op: 'resize', width: 600 }], { format: 'jpeg', quality: 10 })).bytes.length;
  const q95 = (await ok(photo, [{ op: 'resize', width: 600 }], { format: 'jpeg', quality: 95 })).bytes.length;
  assert.ok(q10 < q95 / 2, `quality changes the size: ${q10} vs ${q95}`);
});

test('inputs in every accepted format convert, BMP defaulting to PNG output', async () => {
  const inputs = ['formats/jpeg/cmyk-with-profile.jpg', 'formats/png/rgb16.png', 'formats/png/palette-alpha.png', 'formats/bmp/pal8rle.bmp', 'formats/gif/static-photo.gif', 'formats/webp/lossy-alpha.webp', 'formats/tiff/rgb-lzw.tif', 'formats/other/pitm.avif'];
  for (const path of inputs) {
    const { meta } = await ok(fixture(path), [{ op: 'resize', width: 50 }]);
    assert.equal(meta.width, 50, path);
    if (path.endsWith('.bmp')) assert.equal(meta.format, 'png');
  }
});

test('EXIF orientation is applied before any step', async () => {
  for (let o = 1; o <= 8; o++) {
    const { meta } = await ok(fixture(`formats/jpeg/exif-orientation/portrait_${o}.jpg`), [{ op: 'resize', width: 60 }], { format: 'png' });
    assert.ok(meta.height! > meta.width!, `portrait_${o} stays portrait`);
  }
});

test('animated GIF and WebP stay animated, frame by frame', async () => {
  for (const path of ['formats/gif/animated-loop-3.gif', 'formats/webp/animated-loop-3.webp']) {
    const { meta } = await ok(fixture(path), [{ op: 'resize', width: 100 }, { op: 'flop' }, { op: 'grayscale' }]);
    assert.equal(meta.pages, 10, path);
    assert.equal(meta.width, 100);
    assert.equal(meta.loop, 3);
    const still = await ok(fixture(path), [{ op: 'crop', width: 50, height: 50, strategy: 'attention' }]);
    assert.equal(still.meta.pages ?? 1, 1, 'a smart crop needs one frame');
    const png = await ok(fixture(path), [], { format: 'png' });
    assert.equal(png.meta.pages ?? 1, 1);
  }
});

test('JSON in and out: base64 image, Accept: application/json', async () => {
  const res = await postJson(server.url, '/v1/images/process', { image: small.toString('base64'), operations: [{ op: 'resize', width: 32 }], output: { format: 'webp' } }, { accept: 'application/json' });
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, 200);
  assert.equal(body.requestId, res.headers.get('x-request-id'));
  assert.equal(body.format, 'webp');
  assert.equal(body.width, 32);
  const bytes = Buffer.from(body.image as string, 'base64');
  assert.equal(bytes.length, body.bytes);
  assert.equal((await sharp(bytes).metadata()).format, 'webp');
});

test('bad parameters name the parameter, what is allowed and what was received', async () => {
  const cases: [unknown[], Record<string, unknown>, string, RegExp][] = [
    [[], { quality: 120 }, 'InvalidParameterValue', /^Expected integer between 1 and 100 for output.quality but received 120$/],
    [[], { format: 'bmp' }, 'InvalidParameterValue', /Expected one of jpeg, png, webp, avif, gif, tiff for output.format but received "bmp"/],
    [[], { format: 'png', quality: 50 }, 'InvalidParameterValue', /for output.quality but received 50/],
    [[{ op: 'explode' }], {}, 'UnsupportedOperation', /Expected one of resize, crop, .* for operations\[0\].op but received "explode"/],
    [[{ width: 3 }], {}, 'MissingParameter', /operations\[0\].op/],
    [[{ op: 'resize', width: 0 }], {}, 'InvalidParameterValue', /Expected integer between 1 and 16384 for operations\[0\].width but received 0/],
    [[{ op: 'resize' }], {}, 'MissingParameter', /operations\[0\].width/],
    [[{ op: 'resize', width: 10, colour: 'red' }], {}, 'InvalidParameter', /received "colour"/],
    [[{ op: 'blur', sigma: 'lots' }], {}, 'InvalidParameterValue', /for operations\[0\].sigma but received "lots"/],
    [[{ op: 'rotate', angle: 10, background: 'blue' }], {}, 'InvalidParameterValue', /CSS hex colour .* for operations\[0\].background/],
    [Array.from({ length: 11 }, () => ({ op: 'flip' })), {}, 'InvalidParameterValue', /at most 10 items for operations but received 11/],
  ];
  for (const [operations, output, code, message] of cases) {
    const { res, bytes } = await run(small, operations, output);
    const body = JSON.parse(bytes.toString()) as ErrorBody;
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(body.error.code, code, body.error.message);
    assert.match(body.error.message, message);
  }
  const malformed = await postForm(server.url, '/v1/images/process', small, { operations: '[{"op":' });
  assert.equal(((await malformed.json()) as ErrorBody).error.code, 'InvalidParameter');
});
