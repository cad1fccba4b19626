import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { fixture, manifest } from '../helpers/fixtures.js';
import { postForm, postJson, startServer, type ErrorBody, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });

const unsupported = new Set(['formats/other/dog.heic', 'formats/other/jpeg2000-codestream.j2k', 'formats/other/circle.svg']);

async function expectError(res: Response, code: string, status: number, message?: RegExp): Promise<ErrorBody> {
  const body = (await res.json()) as ErrorBody;
  assert.equal(res.status, status, `${code}: ${JSON.stringify(body)}`);
  assert.equal(body.error.code, code, body.error.message);
  assert.equal(body.error.requestId, res.headers.get('x-request-id'));
  if (message) assert.match(body.error.message, message);
  return body;
}

test('every valid fixture in a supported format is read with the size its header declares', async () => {
  const files = manifest.files.filter((f) => f.path.startsWith('formats/') && f.expect === 'ok' && !unsupported.has(f.path));
  assert.ok(files.length >= 60, `only ${files.length} fixtures found`);
  for (const f of files) {
    const res = await postForm(server.url, '/v1/images/info', fixture(f.path));
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 200, `${f.path}: ${JSON.stringify(body)}`);
    assert.equal(body.width, f.width, `${f.path} width`);
    assert.equal(body.height, f.height, `${f.path} height`);
    assert.equal(body.frames, f.frames ?? 1, `${f.path} frames`);
    if (f.oriented_width) assert.equal(body.orientedWidth, f.oriented_width, `${f.path} oriented width`);
  }
});

test('formats this server cannot decode get FailedOperation.ImageNotSupported (415), not a 500', async () => {
  for (const path of unsupported) {
    await expectError(await postForm(server.url, '/v1/images/info', fixture(path)), 'FailedOperation.ImageNotSupported', 415, /Expected JPEG, PNG, GIF, WebP, TIFF, BMP or AVIF for image/);
  }
});

/** The catalogued answer for each broken fixture; the manifest's reason says why each is broken. */
const badExpectations: Record<string, string | string[]> = {
  'bad/empty.jpg': 'FailedOperation.EmptyImageError',
  'bad/one-byte.jpg': 'FailedOperation.ImageDecodeFailed',
  'bad/text-named.jpg': 'FailedOperation.ImageDecodeFailed',
  'bad/truncated-40pct.jpg': 'FailedOperation.ImageDecodeFailed',
  'bad/corrupt-middle.jpg': 'FailedOperation.ImageDecodeFailed',
  'bad/truncated.png': 'FailedOperation.ImageDecodeFailed',
  'bad/corrupt-header.jpg': 'FailedOperation.ImageDecodeFailed',
  'bad/magic-then-garbage.png': 'FailedOperation.ImageDecodeFailed',
  'bad/magic-then-garbage.jpg': 'FailedOperation.ImageDecodeFailed',
  'bad/magic-then-garbage.gif': ['FailedOperation.ImageDecodeFailed', 'FailedOperation.ImageResolutionExceed'],
  'bad/magic-then-garbage.webp': 'FailedOperation.ImageDecodeFailed',
  'bad/png-bomb-65535x65535.png': 'FailedOperation.ImageResolutionExceed',
  'bad/png-valid-20000x20000.png': 'FailedOperation.ImageResolutionExceed',
  'bad/jpeg-sof-65500x65500.jpg': 'FailedOperation.ImageResolutionExceed',
  'bad/jpeg-valid-20000x14000.jpg': 'FailedOperation.ImageResolutionExceed',
  'bad/gif-1000-frames-1x1.gif': 'FailedOperation.ImageFramesExceed',
  'bad/bmp/reallybig.bmp': ['FailedOperation.ImageDecodeFailed', 'FailedOperation.ImageResolutionExceed'],
};

test('every broken fixture gets its catalogued 4xx on both endpoints', async () => {
  const bad = manifest.files.filter((f) => f.path.startsWith('bad/'));
  assert.ok(bad.length >= 25);
  for (const f of bad) {
    const expected = badExpectations[f.path] ?? 'FailedOperation.ImageDecodeFailed';
    for (const path of ['/v1/images/info', '/v1/images/process']) {
      const res = await postForm(server.url, path, fixture(f.path), path.endsWith('process') ? { operations: [{ op: 'resize', width: 64 }] } : {});
      const body = (await res.json()) as ErrorBody;
      assert.ok(res.status >= 400 && res.status < 500, `${f.path} on ${path}: ${res.status} ${JSON.stringify(body)}`);
      assert.ok([expected].flat().includes(body.error.code), `${f.path} on ${path}: got ${body.error.code}: ${body.error.message}`);
    }
  }
});

test('decompression bombs are refused from the header with flat memory', async () => {
  const bombs = ['bad/png-bomb-65535x65535.png', 'bad/png-valid-20000x20000.png', 'bad/jpeg-sof-65500x65500.jpg', 'bad/gif-1000-frames-1x1.gif'];
  const before = process.memoryUsage().rss;
  for (let i = 0; i < 5; i++) {
    for (const b of bombs) {
      const res = await postForm(server.url, '/v1/images/process', fixture(b));
      assert.ok(res.status === 400, b);
      await res.arrayBuffer();
    }
  }
  const grown = (process.memoryUsage().rss - before) / 2 ** 20;
  // One decoded 20000x20000 RGBA frame alone would be 1.6 GB; staying within 100 MB shows none was decoded.
  assert.ok(grown < 100, `resident memory grew by ${grown.toFixed(0)} MB`);
});

function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4); ihdr[8] = 8; ihdr[9] = 2;
  const raw = Buffer.alloc(Math.max(1, height * (1 + width * 3)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

test('a 0x0 image is refused as too small or undecodable, never a 500', async () => {
  const res = await postForm(server.url, '/v1/images/info', png(0, 0));
  const body = (await res.json()) as ErrorBody;
  assert.ok(['FailedOperation.ImageResolutionTooSmall', 'FailedOperation.ImageDecodeFailed'].includes(body.error.code), JSON.stringify(body));
  assert.equal(res.status, 400);
});

test('operator limits: bytes, width, pixels, frames and minimum size', async () => {
  const strict = await startServer({
    IMGSENSE_MAX_IMAGE_BYTES: '100000', IMGSENSE_MAX_BODY_BYTES: '400000', IMGSENSE_MAX_WIDTH: '600',
    IMGSENSE_MAX_PIXELS: '200000', IMGSENSE_MAX_FRAMES: '5', IMGSENSE_MIN_DIMENSION: '16',
  });
  try {
    const big = fixture('formats/jpeg/baseline.jpg');
    await expectError(await postForm(strict.url, '/v1/images/info', big), 'FailedOperation.ImageSizeExceed', 413, /at most 100000 bytes for image/);
    await expectError(await postJson(strict.url, '/v1/images/info', { image: big.subarray(0, 150_000).toString('base64') }), 'FailedOperation.ImageSizeExceed', 413);
    await expectError(await postJson(strict.url, '/v1/images/info', { image: big.toString('base64') }), 'RequestSizeLimitExceeded', 413);
    await expectError(await postForm(strict.url, '/v1/images/info', png(700, 20)), 'FailedOperation.ImageResolutionExceed', 400, /width at most 600 .* but received 700x20/);
    await expectError(await postForm(strict.url, '/v1/images/info', png(500, 500)), 'FailedOperation.ImageResolutionExceed', 400, /at most 200000 pixels for image but received 250000/);
    await expectError(await postForm(strict.url, '/v1/images/info', png(8, 100)), 'FailedOperation.ImageResolutionTooSmall', 400, /at least 16 for image but received 8x100/);
    // 80x80x30 frames = 192000 pixels fits, but 30 frames exceed the frame limit.
    await expectError(await postForm(strict.url, '/v1/images/info', fixture('formats/gif/animated-rotating-squares.gif')), 'FailedOperation.ImageFramesExceed', 400, /at most 5 frames for image but received 30/);
  } finally {
    await strict.close();
  }
});

test('animated images count width x height x frames against the pixel limit', async () => {
  const s = await startServer({ IMGSENSE_MAX_PIXELS: '150000' });
  try {
    // 80x80 = 6400 pixels per frame, 30 frames = 192000 > 150000.
    await expectError(await postForm(s.url, '/v1/images/info', fixture('formats/gif/animated-rotating-squares.gif')), 'FailedOperation.ImageResolutionExceed', 400, /80x80x30 frames/);
  } finally {
    await s.close();
  }
});

test('base64 input: with and without a data: prefix, and illegal text', async () => {
  const bytes = fixture('formats/png/rgb8.png');
  for (const image of [bytes.toString('base64'), `data:image/png;base64,${bytes.toString('base64')}`]) {
    const res = await postJson(server.url, '/v1/images/info', { image });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { format: string }).format, 'png');
  }
  await expectError(await postJson(server.url, '/v1/images/info', { image: 'not base64 at all!' }), 'InvalidParameterValue.ImageBase64Illegal', 400, /for image/);
  await expectError(await postJson(server.url, '/v1/images/info', { image: '' }), 'FailedOperation.EmptyImageError', 400);
  await expectError(await postJson(server.url, '/v1/images/info', {}), 'MissingParameter', 400, /image .* or url/);
  await expectError(await postJson(server.url, '/v1/images/info', { image: 'aGVsbG8=', url: 'http://x.test/a.jpg' }), 'InvalidParameter', 400);
  await expectError(await postJson(server.url, '/v1/images/info', { image: 12 }), 'InvalidParameterValue', 400, /for image but received 12/);
});

test('the format is sniffed from the bytes, never from the name or content type', async () => {
  const fd = new FormData();
  fd.set('image', new Blob([new Uint8Array(fixture('formats/png/rgb8.png'))], { type: 'image/jpeg' }), 'photo.jpg');
  const res = await fetch(`${server.url}/v1/images/info`, { method: 'POST', body: fd });
  assert.equal(((await res.json()) as { format: string }).format, 'png');
});
