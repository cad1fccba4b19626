import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import sharp from 'sharp';
import { BmpError, decodeBmp, isBmp, readBmpHeader, type BmpHeader } from '../../src/imaging/bmp/index.js';

const FIXTURES = new URL('../../../shared/fixtures/', import.meta.url);
const fixture = (path: string): Buffer => readFileSync(new URL(path, FIXTURES));

interface ManifestEntry {
  path: string;
  source: string;
  format: string;
  width: number;
  height: number;
  expect: 'ok' | 'error';
}
const manifest = (JSON.parse(fixture('manifest.json').toString('utf8')) as { files: ManifestEntry[] }).files;
const entry = (path: string): ManifestEntry => {
  const e = manifest.find((m) => m.path === path);
  assert.ok(e, `${path} is in the manifest`);
  return e;
};
const goodBmps = manifest.filter((m) => m.path.startsWith('formats/bmp/'));
const badBmps = manifest.filter((m) => m.path.startsWith('bad/bmp/'));

type Decoded = ReturnType<typeof decodeBmp>;
const decodeFixture = (name: string): Decoded => decodeBmp(fixture(`formats/bmp/${name}.bmp`));

/** Runs fn; passes if it returns, or throws a BmpError. Any other exception fails the test. */
function onlyBmpError<T>(fn: () => T, label: string): T | BmpError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof BmpError) return err;
    assert.fail(`${label}: threw ${String(err)} instead of BmpError`);
  }
}

function assertBmpError(fn: () => unknown, kind: BmpError['kind'], label = ''): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BmpError, `${label} expected BmpError, got ${String(err)}`);
    assert.equal(err.kind, kind, `${label} kind (message: ${err.message})`);
    return true;
  });
}

function assertWellFormed(d: Decoded, label: string): void {
  assert.ok(d.channels === 3 || d.channels === 4, label);
  assert.ok(Buffer.isBuffer(d.data), label);
  assert.equal(d.data.length, d.width * d.height * d.channels, `${label}: data length`);
}

function maxDiffPerChannel(a: Buffer, b: Buffer): [number, number, number] {
  assert.equal(a.length, b.length);
  const max: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < a.length; i++) {
    const c = i % 3;
    max[c] = Math.max(max[c]!, Math.abs(a[i]! - b[i]!)) as number;
  }
  return max;
}

const srgbToLinear = (v: number): number => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
};

/**
 * Per-channel means of bs x bs blocks in linear light. The bmpsuite 1 and 4-bit pictures are error-diffused
 * from the same original in linear light, so their block means track the 24-bit picture there (and only there).
 */
function linearBlockMeans(rgb: Buffer, width: number, height: number, bs: number, grey: boolean): number[] {
  const means: number[] = [];
  for (let by = 0; by + bs <= height; by += bs) {
    for (let bx = 0; bx + bs <= width; bx += bs) {
      const sum = [0, 0, 0];
      for (let y = by; y < by + bs; y++) {
        for (let x = bx; x < bx + bs; x++) {
          const i = (y * width + x) * 3;
          for (let c = 0; c < 3; c++) sum[c]! += srgbToLinear(rgb[i + c]!);
        }
      }
      const n = bs * bs;
      if (grey) means.push((0.2126 * sum[0]! + 0.7152 * sum[1]! + 0.0722 * sum[2]!) / n);
      else means.push(sum[0]! / n, sum[1]! / n, sum[2]! / n);
    }
  }
  return means;
}

function maxAbsDiff(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

test('fixture lists: manifest and formats/bmp, bad/bmp agree', () => {
  const listed = (dir: string): string[] => readdirSync(new URL(dir, FIXTURES)).map((f) => dir + f).sort();
  assert.deepEqual(goodBmps.map((m) => m.path).sort(), listed('formats/bmp/'));
  assert.deepEqual(badBmps.map((m) => m.path).sort(), listed('bad/bmp/'));
  assert.ok(goodBmps.length >= 14);
  assert.ok(badBmps.length >= 9);
});

test('every formats/bmp file is recognised, has the manifest size in its header and decodes', () => {
  for (const m of goodBmps) {
    assert.equal(m.expect, 'ok');
    const buf = fixture(m.path);
    assert.ok(isBmp(buf), m.path);
    const h = readBmpHeader(buf);
    assert.equal(h.width, m.width, `${m.path} header width`);
    assert.equal(h.height, m.height, `${m.path} header height`);
    const d = decodeBmp(buf);
    assert.equal(d.width, m.width, `${m.path} width`);
    assert.equal(d.height, m.height, `${m.path} height`);
    assertWellFormed(d, m.path);
    assert.equal(d.channels, m.path.endsWith('rgba32.bmp') ? 4 : 3, `${m.path} channels`);
  }
});

test('headers report what the bmpsuite files are', () => {
  const h = (name: string): BmpHeader => readBmpHeader(fixture(`formats/bmp/${name}.bmp`));
  assert.deepEqual(h('pal8os2'), {
    width: 127, height: 64, topDown: false, bitCount: 8, compression: 'rgb', hasAlpha: false,
    headerSize: 12, pixelOffset: 794, paletteSize: 256,
  });
  assert.deepEqual(h('pal8topdown'), {
    width: 127, height: 64, topDown: true, bitCount: 8, compression: 'rgb', hasAlpha: false,
    headerSize: 40, pixelOffset: 1062, paletteSize: 252,
  });
  assert.equal(h('pal4').paletteSize, 12);
  assert.equal(h('pal1').bitCount, 1);
  assert.equal(h('pal4rle').compression, 'rle4');
  assert.equal(h('pal8rle').compression, 'rle8');
  assert.equal(h('pal8v5').headerSize, 124);
  assert.equal(h('rgb16-565').compression, 'bitfields');
  assert.equal(h('rgb32').compression, 'rgb');
  assert.equal(h('rgb32bf').hasAlpha, false);
  assert.deepEqual([h('rgba32').hasAlpha, h('rgba32').headerSize, h('rgba32').bitCount], [true, 124, 32]);
});

test('bmpsuite pictures: lossless variants match the 24-bit reference exactly', () => {
  const ref = decodeFixture('rgb24');
  for (const name of ['rgb32', 'rgb32bf']) assert.ok(decodeFixture(name).data.equals(ref.data), name);
});

test('bmpsuite pictures: all 8-bit variants (palette, OS/2, RLE8, top-down, v5) are pixel-identical', () => {
  const pal8 = decodeFixture('pal8');
  for (const name of ['pal8os2', 'pal8rle', 'pal8topdown', 'pal8v5']) assert.ok(decodeFixture(name).data.equals(pal8.data), name);
  // 252 colours, error-diffused: close to the reference in every 8x8 block, not pixel for pixel.
  const ref = decodeFixture('rgb24');
  const diff = maxAbsDiff(linearBlockMeans(pal8.data, 127, 64, 8, false), linearBlockMeans(ref.data, 127, 64, 8, false));
  assert.ok(diff < 0.03, `pal8 block difference ${diff}`);
  // A decoder that flips rows would be far off.
  const flipped = Buffer.alloc(pal8.data.length);
  for (let y = 0; y < 64; y++) pal8.data.copy(flipped, (63 - y) * 127 * 3, y * 127 * 3, (y + 1) * 127 * 3);
  assert.ok(maxAbsDiff(linearBlockMeans(flipped, 127, 64, 8, false), linearBlockMeans(ref.data, 127, 64, 8, false)) > 0.3);
});

test('bmpsuite pictures: 4-bit and 1-bit dithered versions match the reference in linear-light block means', () => {
  const ref = decodeFixture('rgb24');
  const pal4 = decodeFixture('pal4');
  assert.ok(decodeFixture('pal4rle').data.equals(pal4.data), 'RLE4 decodes to the same pixels as uncompressed 4-bit');
  const d4 = maxAbsDiff(linearBlockMeans(pal4.data, 127, 64, 8, false), linearBlockMeans(ref.data, 127, 64, 8, false));
  assert.ok(d4 < 0.06, `pal4 block difference ${d4}`);

  const pal1 = decodeFixture('pal1');
  const colours = new Set<string>();
  for (let i = 0; i < pal1.data.length; i += 3) colours.add(pal1.data.subarray(i, i + 3).toString('hex'));
  assert.deepEqual([...colours].sort(), ['000000', 'ffffff']);
  const d1 = maxAbsDiff(linearBlockMeans(pal1.data, 127, 64, 8, true), linearBlockMeans(ref.data, 127, 64, 8, true));
  assert.ok(d1 < 0.06, `pal1 block difference ${d1}`);
  // Inverting the bits (reading the palette backwards) must be caught.
  const inverted = Buffer.from(pal1.data.map((v) => 255 - v));
  assert.ok(maxAbsDiff(linearBlockMeans(inverted, 127, 64, 8, true), linearBlockMeans(ref.data, 127, 64, 8, true)) > 0.3);
});

test('bmpsuite pictures: 16-bit 565 is within half a quantisation step of the reference', () => {
  const ref = decodeFixture('rgb24');
  const d = decodeFixture('rgb16-565');
  // Half of 255/31 (5-bit) is 4.1, half of 255/63 (6-bit green) is 2.0.
  assert.deepEqual(maxDiffPerChannel(d.data, ref.data).map((v, c) => v <= (c === 1 ? 2 : 4)), [true, true, true]);
  assert.ok(!d.data.equals(ref.data), 'the 16-bit version really is quantised');
});

test('bmpsuite pictures: rgba32 alpha and colours', () => {
  const ref = decodeFixture('rgb24');
  const d = decodeFixture('rgba32');
  assert.equal(d.channels, 4);
  const alphas = new Set<number>();
  let opaque = 0;
  for (let i = 0; i < d.width * d.height; i++) {
    const a = d.data[i * 4 + 3]!;
    alphas.add(a);
    if (a !== 255) continue;
    opaque++;
    // The opaque pixels are the common picture; only the partly transparent lettering differs from rgb24.
    for (let c = 0; c < 3; c++) assert.equal(d.data[i * 4 + c], ref.data[i * 3 + c], `pixel ${i} channel ${c}`);
  }
  assert.ok(alphas.has(0) && alphas.has(255) && alphas.size >= 10, `alpha values ${[...alphas]}`);
  assert.ok(opaque > d.width * d.height * 0.9 && opaque < d.width * d.height, `opaque count ${opaque}`);
});

test('real photo BMP equals sharp decodes of files derived from the same original', async () => {
  const path = 'formats/bmp/photo-rgb24.bmp';
  const bmp = decodeBmp(fixture(path));
  assert.equal(bmp.channels, 3);
  const origin = /\bfrom (\S+)$/.exec(entry(path).source)?.[1];
  assert.ok(origin, 'the manifest names the original');
  const relatives = manifest.filter((m) => m.path !== path && (m.source === origin || m.source.endsWith(`from ${origin}`)));
  const png = relatives.find((m) => m.format === 'png');
  const jpeg = relatives.find((m) => m.source === origin);
  assert.ok(png && jpeg, 'a PNG and the original JPEG are in the fixtures');

  // The PNG is a lossless conversion of the same decoded JPEG, so the pixels must agree exactly.
  const fromPng = await sharp(fixture(png.path)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([fromPng.info.width, fromPng.info.height, fromPng.info.channels], [bmp.width, bmp.height, 3]);
  assert.ok(fromPng.data.equals(bmp.data), `${path} == ${png.path}`);

  // Different JPEG decoders may round the IDCT differently; allow a little.
  const fromJpeg = await sharp(fixture(jpeg.path)).raw().toBuffer();
  let sum = 0;
  for (let i = 0; i < fromJpeg.length; i++) sum += Math.abs(fromJpeg[i]! - bmp.data[i]!);
  assert.ok(sum / fromJpeg.length < 1, `mean difference to ${jpeg.path}: ${sum / fromJpeg.length}`);
});

// Decision per bmpsuite "bad" file. reallybig and shortfile have plausible headers (so readBmpHeader reports
// their declared size to the caller's limit check) and fail when decoding; the others fail at the header, except
// for the bad RLE stream and palette indices, found while decoding.
const badDecisions: Record<string, { header: 'ok' | BmpError['kind']; decode: BmpError['kind'] }> = {
  'badbitcount.bmp': { header: 'invalid', decode: 'invalid' },
  'badheadersize.bmp': { header: 'invalid', decode: 'invalid' },
  'badplanes.bmp': { header: 'invalid', decode: 'invalid' },
  'badrle.bmp': { header: 'ok', decode: 'invalid' },
  'badwidth.bmp': { header: 'invalid', decode: 'invalid' },
  'pal8badindex.bmp': { header: 'ok', decode: 'invalid' },
  'reallybig.bmp': { header: 'ok', decode: 'truncated' },
  'rletopdown.bmp': { header: 'invalid', decode: 'invalid' },
  'shortfile.bmp': { header: 'ok', decode: 'truncated' },
};

test('every bad/bmp file is refused with the decided BmpError kind', () => {
  for (const m of badBmps) {
    const name = m.path.slice('bad/bmp/'.length);
    const decision = badDecisions[name];
    assert.ok(decision, `a decision exists for ${name}`);
    assert.equal(m.expect, 'error');
    const buf = fixture(m.path);
    assert.ok(isBmp(buf), m.path);
    if (decision.header === 'ok') {
      const h = readBmpHeader(buf);
      assert.deepEqual([h.width, h.height], [m.width, m.height], `${name} declared size`);
    } else {
      assertBmpError(() => readBmpHeader(buf), decision.header, name);
    }
    assertBmpError(() => decodeBmp(buf), decision.decode, name);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Hostile input

/** Deterministic PRNG (mulberry32) so any failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the API does: read the header, refuse anything over its pixel limit, then decode. */
function decodeLikeCaller(buf: Uint8Array, label: string): Decoded | BmpError | 'too big' {
  const h = onlyBmpError(() => readBmpHeader(buf), label);
  if (h instanceof BmpError) {
    // The full decode must agree that the header is bad.
    assert.ok(onlyBmpError(() => decodeBmp(buf), label) instanceof BmpError, `${label}: decode accepted a bad header`);
    return h;
  }
  if (h.width * h.height > 4_000_000) return 'too big';
  const d = onlyBmpError(() => decodeBmp(buf), label);
  if (!(d instanceof BmpError)) {
    assertWellFormed(d, label);
    assert.deepEqual([d.width, d.height], [h.width, h.height], `${label}: decode size matches header`);
  }
  return d;
}

test('truncating good files anywhere yields only BmpError or a complete image', () => {
  for (const m of goodBmps) {
    const buf = fixture(m.path);
    // Every length for the small bmpsuite files; a spread of lengths (header region densely) for the photo.
    const lengths = buf.length < 40_000
      ? Array.from({ length: buf.length }, (_, i) => i)
      : Array.from({ length: 400 }, (_, i) => (i < 200 ? i : Math.floor((buf.length * (i - 200)) / 200)));
    let errors = 0;
    for (const len of lengths) {
      const r = decodeLikeCaller(buf.subarray(0, len), `${m.path}[0:${len}]`);
      if (r instanceof BmpError) errors++;
    }
    assert.ok(errors >= lengths.length - 4, `${m.path}: almost every truncation is refused (${errors}/${lengths.length})`);
    assertBmpError(() => decodeBmp(buf.subarray(0, Math.floor(buf.length * 0.9))), 'truncated', m.path);
  }
});

test('random byte flips yield only BmpError or a valid image', () => {
  const rand = prng(0x1b2d3f);
  let ok = 0;
  let refused = 0;
  for (const m of goodBmps) {
    const orig = fixture(m.path);
    const iterations = orig.length > 100_000 ? 40 : 400;
    for (let it = 0; it < iterations; it++) {
      const buf = Buffer.from(orig);
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) {
        // Half of the flips hit the headers and palette, where a flip changes how everything else is read.
        const limit = rand() < 0.5 ? Math.min(buf.length, 200) : buf.length;
        const at = Math.floor(rand() * limit);
        buf[at] = rand() < 0.5 ? buf[at]! ^ (1 << Math.floor(rand() * 8)) : Math.floor(rand() * 256);
      }
      const r = decodeLikeCaller(buf, `${m.path} flip #${it}`);
      if (r instanceof BmpError) refused++;
      else if (r !== 'too big') ok++;
    }
  }
  assert.ok(ok > 100 && refused > 100, `both outcomes are exercised (ok ${ok}, refused ${refused})`);
});

test('a tiny file claiming 65535x65535 fails fast without allocating', () => {
  assertBmpError(() => readBmpHeader(Buffer.from('BM\xff\xff', 'latin1')), 'truncated');
  assertBmpError(() => decodeBmp(Buffer.from('BM\xff\xff', 'latin1')), 'truncated');
  for (const bitCount of [1, 8, 24, 32]) {
    const palette = bitCount <= 8 ? [[0, 0, 0], [255, 255, 255]] : [];
    const buf = bmp({ width: 65535, height: 65535, bitCount, palette, pixels: [] });
    const before = process.memoryUsage().arrayBuffers;
    const h = readBmpHeader(buf);
    assert.deepEqual([h.width, h.height], [65535, 65535]);
    assertBmpError(() => decodeBmp(buf), 'truncated', `${bitCount}-bit`);
    assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20, 'no large buffer was allocated');
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Synthetic files for the cases bmpsuite's good set does not cover

interface Synth {
  headerSize?: 12 | 40 | 52 | 56 | 108 | 124 | number;
  width: number;
  height: number;
  bitCount: number;
  compression?: number;
  planes?: number;
  /** r, g, b[, a] masks stored inside a 52+ byte header. */
  masks?: number[];
  /** Masks stored after a 40-byte header (BI_BITFIELDS / BI_ALPHABITFIELDS). */
  extraMasks?: number[];
  palette?: number[][];
  colorsUsed?: number;
  pixels: number[] | Buffer;
}

function bmp(o: Synth): Buffer {
  const hs = o.headerSize ?? 40;
  const entrySize = hs === 12 ? 3 : 4;
  const palette = o.palette ?? [];
  const extra = o.extraMasks ?? [];
  const pixelOffset = 14 + hs + extra.length * 4 + palette.length * entrySize;
  const buf = Buffer.alloc(pixelOffset + o.pixels.length);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(pixelOffset, 10);
  buf.writeUInt32LE(hs, 14);
  if (hs === 12) {
    buf.writeUInt16LE(o.width, 18);
    buf.writeUInt16LE(o.height, 20);
    buf.writeUInt16LE(o.planes ?? 1, 22);
    buf.writeUInt16LE(o.bitCount, 24);
  } else {
    buf.writeInt32LE(o.width, 18);
    buf.writeInt32LE(o.height, 22);
    buf.writeUInt16LE(o.planes ?? 1, 26);
    buf.writeUInt16LE(o.bitCount, 28);
    buf.writeUInt32LE(o.compression ?? 0, 30);
    buf.writeUInt32LE(o.pixels.length, 34);
    buf.writeUInt32LE(o.colorsUsed ?? 0, 46);
    (o.masks ?? []).forEach((m, i) => buf.writeUInt32LE(m, 54 + i * 4));
  }
  let p = 14 + hs;
  for (const m of extra) p = buf.writeUInt32LE(m, p);
  for (const [r, g, b] of palette) {
    buf[p] = b!;
    buf[p + 1] = g!;
    buf[p + 2] = r!;
    p += entrySize;
  }
  Buffer.from(o.pixels).copy(buf, pixelOffset);
  return buf;
}

/** Concatenates rows, each zero-padded to a multiple of 4 bytes, as uncompressed BMP rows are stored. */
function rows(...rs: number[][]): number[] {
  return rs.flatMap((r) => [...r, ...new Array<number>((4 - (r.length % 4)) % 4).fill(0)]);
}

const u16le = (v: number): number[] => [v & 0xff, v >> 8];
const u32le = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const PAL4 = [[10, 20, 30], [255, 0, 0], [0, 255, 0], [0, 0, 255]];

test('24-bit row order: bottom-up by default, top-down with a negative height', () => {
  // File order for bottom-up is bottom row first; pixels are B, G, R.
  const pixels = rows([1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]);
  const up = decodeBmp(bmp({ width: 2, height: 2, bitCount: 24, pixels }));
  assert.deepEqual([...up.data], [9, 8, 7, 12, 11, 10, 3, 2, 1, 6, 5, 4]);
  const down = decodeBmp(bmp({ width: 2, height: -2, bitCount: 24, pixels }));
  assert.deepEqual([down.height, ...down.data], [2, 3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10]);
  assert.equal(readBmpHeader(bmp({ width: 2, height: -2, bitCount: 24, pixels })).topDown, true);
});

test('16-bit: default 555 and BI_BITFIELDS 565 scale channels to the full 0..255 range', () => {
  const px555 = [0x7fff, 0x7c00, 0x0010, 0x8000].flatMap(u16le);
  const d = decodeBmp(bmp({ width: 4, height: 1, bitCount: 16, pixels: px555 }));
  // 5-bit 31 -> 255 (not 248), 16 -> round(16 * 255 / 31) = 132, and the unused top bit is ignored.
  assert.deepEqual([...d.data], [255, 255, 255, 255, 0, 0, 0, 0, 132, 0, 0, 0]);

  const px565 = [0xffff, 0x07e0, 0x0020, 0xf800].flatMap(u16le);
  const e = decodeBmp(bmp({
    width: 4, height: 1, bitCount: 16, compression: 3, extraMasks: [0xf800, 0x07e0, 0x001f], pixels: px565,
  }));
  assert.deepEqual([...e.data], [255, 255, 255, 0, 255, 0, 0, 4, 0, 255, 0, 0]);
});

test('16-bit ARGB4444 from a v4 header keeps its alpha', () => {
  const d = decodeBmp(bmp({
    headerSize: 108, width: 2, height: 1, bitCount: 16, compression: 3,
    masks: [0x0f00, 0x00f0, 0x000f, 0xf000], pixels: [...u16le(0x8f00), ...u16le(0xf0f0)],
  }));
  assert.equal(d.channels, 4);
  assert.deepEqual([...d.data], [255, 0, 0, 136, 0, 255, 0, 255]);
});

test('32-bit: wide bitfields, alpha from v3/v5 headers and BI_ALPHABITFIELDS, all-zero alpha is opaque', () => {
  // 10-bit channels: 1023 -> 255, 512 -> 128.
  const ten = decodeBmp(bmp({
    width: 1, height: 1, bitCount: 32, compression: 3, extraMasks: [0x3ff00000, 0x000ffc00, 0x000003ff],
    pixels: u32le((1023 << 20) | (512 << 10) | 0),
  }));
  assert.deepEqual([ten.channels, ...ten.data], [3, 255, 128, 0]);

  const argb = [...u32le(0x80ff0000), ...u32le(0x0000ff00)];
  const argbMasks = [0xff0000, 0xff00, 0xff, 0xff000000];
  const v3 = decodeBmp(bmp({ headerSize: 56, width: 2, height: 1, bitCount: 32, compression: 3, masks: argbMasks, pixels: argb }));
  assert.deepEqual([v3.channels, ...v3.data], [4, 255, 0, 0, 128, 0, 255, 0, 0]);

  // BI_RGB with a v5 alpha mask: the spare byte is alpha.
  const v5 = decodeBmp(bmp({ headerSize: 124, width: 2, height: 1, bitCount: 32, masks: [0, 0, 0, 0xff000000], pixels: argb }));
  assert.deepEqual([v5.channels, ...v5.data], [4, 255, 0, 0, 128, 0, 255, 0, 0]);

  const alphaBitfields = bmp({ width: 2, height: 1, bitCount: 32, compression: 6, extraMasks: argbMasks, pixels: argb });
  assert.equal(readBmpHeader(alphaBitfields).compression, 'bitfields');
  assert.deepEqual([...decodeBmp(alphaBitfields).data], [255, 0, 0, 128, 0, 255, 0, 0]);

  // Same masks, alpha byte 0 everywhere: declared, but treated as opaque.
  const zero = bmp({
    headerSize: 56, width: 2, height: 1, bitCount: 32, compression: 3, masks: argbMasks,
    pixels: [...u32le(0xff0000), ...u32le(0xff00)],
  });
  assert.equal(readBmpHeader(zero).hasAlpha, true);
  const z = decodeBmp(zero);
  assert.deepEqual([z.channels, z.data.length, ...z.data], [3, 6, 255, 0, 0, 0, 255, 0]);

  // Without any alpha mask the spare byte is ignored even when set.
  const x = decodeBmp(bmp({ width: 1, height: 1, bitCount: 32, pixels: u32le(0x7f010203) }));
  assert.deepEqual([x.channels, ...x.data], [3, 1, 2, 3]);
});

test('palettes: OS/2 v1 triples, short palettes, odd widths and out-of-range indices', () => {
  // OS/2 v1, 1-bit, width 9 (2 data bytes per row, padded to 4), 3-byte palette entries.
  const os2 = decodeBmp(bmp({
    headerSize: 12, width: 9, height: 1, bitCount: 1, palette: [[1, 2, 3], [200, 201, 202]],
    pixels: rows([0b10000001, 0b10000000]),
  }));
  const p = (i: number): number[] => (i ? [200, 201, 202] : [1, 2, 3]);
  assert.deepEqual([...os2.data], [1, 0, 0, 0, 0, 0, 0, 1, 1].flatMap(p));

  // 4-bit with only 4 palette entries (fewer than 16), width 3 (odd nibble count).
  const four = bmp({ width: 3, height: 1, bitCount: 4, colorsUsed: 4, palette: PAL4, pixels: rows([0x31, 0x20]) });
  assert.equal(readBmpHeader(four).paletteSize, 4);
  assert.deepEqual([...decodeBmp(four).data], [3, 1, 2].flatMap((i) => PAL4[i]!));
  const badFour = bmp({ width: 3, height: 1, bitCount: 4, colorsUsed: 4, palette: PAL4, pixels: rows([0x34, 0x20]) });
  assertBmpError(() => decodeBmp(badFour), 'invalid');

  // colorsUsed 0 with a palette gap shorter than 256 entries: the palette is what fits before the pixels.
  const eight = bmp({ width: 2, height: 1, bitCount: 8, palette: PAL4, pixels: rows([3, 0]) });
  assert.equal(readBmpHeader(eight).paletteSize, 4);
  assert.deepEqual([...decodeBmp(eight).data], [...PAL4[3]!, ...PAL4[0]!]);
  assertBmpError(() => decodeBmp(bmp({ width: 2, height: 1, bitCount: 8, palette: PAL4, pixels: rows([3, 4]) })), 'invalid');

  // An oversized colour count is clamped to 2^bitCount.
  const oversized = bmp({ width: 1, height: 1, bitCount: 1, colorsUsed: 1000, palette: PAL4, pixels: rows([0]) });
  assert.equal(readBmpHeader(oversized).paletteSize, 2);
});

// RLE streams use stream order: the first row is the bottom row of the picture.
const rle8 = (width: number, height: number, stream: number[]): Buffer =>
  bmp({ width, height, bitCount: 8, compression: 1, colorsUsed: 4, palette: PAL4, pixels: stream });
const rle4 = (width: number, height: number, stream: number[]): Buffer =>
  bmp({ width, height, bitCount: 4, compression: 2, colorsUsed: 4, palette: PAL4, pixels: stream });
const colours = (...indices: number[]): number[] => indices.flatMap((i) => PAL4[i]!);

test('RLE8: runs, padded absolute runs, end of line, delta and end of bitmap', () => {
  const d = decodeBmp(rle8(5, 3, [
    2, 1, // two pixels of colour 1
    0, 3, 2, 3, 2, 0, // three literal pixels, padded to a word
    0, 0, // end of line
    0, 2, 1, 1, // delta: right 1, up 1 (skips the middle row)
    1, 3, // one pixel of colour 3
    0, 1, // end of bitmap
  ]));
  // Skipped pixels take palette colour 0.
  assert.deepEqual([...d.data], [...colours(0, 3, 0, 0, 0), ...colours(0, 0, 0, 0, 0), ...colours(1, 1, 2, 3, 2)]);
});

test('RLE4: alternating runs and padded absolute runs', () => {
  const d = decodeBmp(rle4(9, 2, [
    3, 0x12, // 1 2 1
    0, 5, 0x31, 0x23, 0x10, 0, // five literal nibbles 3 1 2 3 1: three bytes, padded to four
    1, 0x30, // 3
    0, 0, // end of line
    7, 0x02, // 0 2 0 2 0 2 0
    0, 1, // end of bitmap; the last two pixels stay colour 0
  ]));
  assert.deepEqual([...d.data], [...colours(0, 2, 0, 2, 0, 2, 0, 0, 0), ...colours(1, 2, 1, 3, 1, 2, 3, 1, 3)]);
});

test('RLE edge cases: clipped runs, overruns, bad deltas, truncation, missing end marker', () => {
  // An encoded run longer than the row is clipped, not carried into the next row.
  assert.deepEqual([...decodeBmp(rle8(2, 2, [5, 1, 0, 0, 2, 2, 0, 1])).data], colours(2, 2, 1, 1));
  assert.deepEqual([...decodeBmp(rle8(2, 2, [2, 1, 0, 0, 5, 2, 0, 1])).data], colours(2, 2, 1, 1));
  // Literal pixels past the row end, deltas off the image and pixels above the top row are invalid.
  assertBmpError(() => decodeBmp(rle8(2, 1, [0, 3, 1, 1, 1, 0, 0, 1])), 'invalid', 'absolute overrun');
  assertBmpError(() => decodeBmp(rle8(2, 2, [0, 2, 3, 0, 0, 1])), 'invalid', 'delta right');
  assertBmpError(() => decodeBmp(rle8(2, 2, [0, 2, 0, 3, 0, 1])), 'invalid', 'delta up');
  assertBmpError(() => decodeBmp(rle8(2, 1, [2, 1, 0, 0, 1, 1, 0, 1])), 'invalid', 'row above the top');
  assertBmpError(() => decodeBmp(rle8(2, 1, [2, 9, 0, 1])), 'invalid', 'palette index');
  assertBmpError(() => decodeBmp(rle4(2, 1, [2, 0x19, 0, 1])), 'invalid', 'RLE4 palette index');
  // Truncated streams.
  assertBmpError(() => decodeBmp(rle8(2, 2, [2, 1, 0, 0])), 'truncated', 'ends early');
  assertBmpError(() => decodeBmp(rle8(4, 1, [0, 4, 1, 1])), 'truncated', 'ends in absolute run');
  assertBmpError(() => decodeBmp(rle8(4, 2, [0, 2, 1])), 'truncated', 'ends in delta');
  // Every row written but no end-of-bitmap marker: accepted.
  assert.deepEqual([...decodeBmp(rle8(2, 2, [2, 1, 0, 0, 2, 2])).data], colours(2, 2, 1, 1));
  // Only end-of-bitmap: a valid, all-background image.
  assert.deepEqual([...decodeBmp(rle8(2, 1, [0, 1])).data], colours(0, 0));
});

test('RLE on a long hostile stream terminates with a BmpError', () => {
  // Endless end-of-line escapes and zero deltas: each is consumed, none writes, and the stream runs out.
  const eols = rle8(4, 4, new Array<number>(200_000).fill(0));
  assertBmpError(() => decodeBmp(eols), 'invalid');
  const deltas = rle8(4, 4, Array.from({ length: 100_000 }, (_, i) => [0, 2, 0, 0][i % 4]!));
  assertBmpError(() => decodeBmp(deltas), 'truncated');
});

test('header validation', () => {
  const ok = { width: 1, height: 1, bitCount: 24, pixels: rows([0, 0, 0]) };
  assert.equal(decodeBmp(bmp(ok)).data.length, 3);
  const cases: [string, Buffer, BmpError['kind']][] = [
    ['zero width', bmp({ ...ok, width: 0 }), 'invalid'],
    ['negative width', bmp({ ...ok, width: -1 }), 'invalid'],
    ['zero height', bmp({ ...ok, height: 0 }), 'invalid'],
    ['planes 2', bmp({ ...ok, planes: 2 }), 'invalid'],
    ['header size 66', bmp({ ...ok, headerSize: 66 }), 'invalid'],
    ['header size 64 (OS/2 2.x)', bmp({ ...ok, headerSize: 64 }), 'unsupported'],
    ['bit count 7', bmp({ ...ok, bitCount: 7 }), 'invalid'],
    ['bit count 2 (Windows CE)', bmp({ ...ok, bitCount: 2 }), 'unsupported'],
    ['BI_JPEG', bmp({ ...ok, compression: 4 }), 'unsupported'],
    ['BI_PNG', bmp({ ...ok, compression: 5 }), 'unsupported'],
    ['compression 99', bmp({ ...ok, compression: 99 }), 'unsupported'],
    ['RLE8 at 4 bits', bmp({ ...ok, bitCount: 4, compression: 1, palette: PAL4 }), 'invalid'],
    ['RLE4 at 8 bits', bmp({ ...ok, bitCount: 8, compression: 2, palette: PAL4 }), 'invalid'],
    ['RLE top-down', bmp({ ...ok, height: -1, bitCount: 8, compression: 1, palette: PAL4 }), 'invalid'],
    ['bitfields at 24 bits', bmp({ ...ok, compression: 3, extraMasks: [0xff0000, 0xff00, 0xff] }), 'invalid'],
    ['non-contiguous mask', bmp({ ...ok, bitCount: 16, compression: 3, extraMasks: [0xf00f, 0x0ff0, 0] }), 'invalid'],
    ['16-bit mask over 16 bits', bmp({ ...ok, bitCount: 16, compression: 3, extraMasks: [0x1f0000, 0x3e0, 0x1f] }), 'invalid'],
    ['masks cut off', bmp({ ...ok, bitCount: 16, compression: 3, pixels: [] }).subarray(0, 58), 'truncated'],
    ['paletted without palette', bmp({ ...ok, bitCount: 8 }), 'invalid'],
    ['not BM', Buffer.from(bmp(ok)).fill(0x41, 0, 1), 'invalid'],
    ['header cut off', bmp(ok).subarray(0, 40), 'truncated'],
    ['empty', Buffer.alloc(0), 'truncated'],
  ];
  for (const [label, buf, kind] of cases) {
    assertBmpError(() => readBmpHeader(buf), kind, label);
    assertBmpError(() => decodeBmp(buf), kind, label);
  }
  // Pixel data offset pointing into the header.
  const inside = bmp(ok);
  inside.writeUInt32LE(20, 10);
  assertBmpError(() => readBmpHeader(inside), 'invalid', 'offset inside header');
});

test('readBmpHeader needs only the headers; decodeBmp needs the pixels', () => {
  const full = fixture('formats/bmp/rgb24.bmp');
  const h = readBmpHeader(full.subarray(0, 54));
  assert.deepEqual([h.width, h.height, h.bitCount], [127, 64, 24]);
  assertBmpError(() => decodeBmp(full.subarray(0, 54)), 'truncated');
  // A paletted header is readable without its palette.
  assert.equal(readBmpHeader(fixture('formats/bmp/pal8.bmp').subarray(0, 54)).paletteSize, 252);
  assertBmpError(() => decodeBmp(fixture('formats/bmp/pal8.bmp').subarray(0, 100)), 'truncated');
  // Missing padding after the last row is tolerated.
  assert.equal(decodeBmp(full.subarray(0, full.length - 3)).data.length, 127 * 64 * 3);
});

test('isBmp', () => {
  assert.equal(isBmp(fixture('formats/bmp/rgb24.bmp')), true);
  assert.equal(isBmp(Buffer.from('BM')), false);
  assert.equal(isBmp(Buffer.alloc(26, 0x42)), false);
  assert.equal(isBmp(fixture('formats/png/rgb8.png')), false);
  assert.equal(isBmp(Buffer.concat([Buffer.from('BM'), Buffer.alloc(24)])), true);
});
