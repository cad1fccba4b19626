/**
 * What each step of a recognition request costs on its own, besides the model runs (the server reports those:
 * imgsense_model_cpu_seconds_total) and HTTP: CPU ms per image on bench/recognition's images.
 *
 *   npx tsx bench/request-stages.ts [--n 150]
 *
 * Each step runs alone in a loop (10 warm-ups, then N timed calls over the case's images) in this process; CPU
 * is process.cpuUsage, so libvips' threads count too. Model inputs go into a reused array, as the server's pools
 * do. Segmentation's mask is a synthetic 256x256 sigmoid output (a band of foreground); a FaceMesh crop is timed
 * on a typical face box (80 px, crops of 1.4x the detector box), and counts once per face candidate.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/env.js';
import { decodeForModels, tensorFromDecoded } from '../src/imaging/decoded.js';
import { faceInput } from '../src/imaging/face-crops.js';
import { probeImage } from '../src/imaging/probe.js';
import { decodeRgb, squareTensor } from '../src/imaging/rgb.js';
import { alphaFromMask, composite } from '../src/imaging/segment-composite.js';
import { detectorSquares } from '../src/inference/models/face/tiles.js';
import { decodeSegmentation } from '../src/inference/models/segmentation.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/fixtures');
const i = process.argv.indexOf('--n');
const n = i > 0 ? Number(process.argv[i + 1]) : 150;
const limits = loadConfig({}).limits;
const read = (names: string[]) => names.map((p) => readFileSync(path.join(fixtures, p)));

async function step(name: string, fn: (k: number) => unknown): Promise<void> {
  for (let k = 0; k < 10; k++) await fn(k);
  const c0 = process.cpuUsage();
  for (let k = 0; k < n; k++) await fn(k);
  const c = process.cpuUsage(c0);
  console.log(`| ${name} | ${((c.user + c.system) / 1000 / n).toFixed(2)} |`);
}

const reused = (length: number) => { let a = new Float32Array(length); return (m: number) => (a.length === m ? a : (a = new Float32Array(m))); };

async function objects(): Promise<void> {
  const files = read(['objects/dog.jpg', 'objects/person.jpg', 'objects/horses.jpg', 'objects/giraffe.jpg', 'objects/eagle.jpg', 'objects/kite.jpg']);
  const probes = await Promise.all(files.map((b) => probeImage(b, limits)));
  const decoded = await Promise.all(probes.map((p) => decodeForModels(p, 2048, 512)));
  const alloc = reused(512 * 512 * 3);
  console.log(`\n### objects (centernet), ${files.length} photos\n\n| step | CPU ms |\n| --- | --- |`);
  await step('probe (header, limits)', (k) => probeImage(files[k % files.length]!, limits));
  await step('decode (as the server decodes for a 512 input)', (k) => decodeForModels(probes[k % files.length]!, 2048, 512));
  await step('model input (512x512 NCHW bilinear)', (k) => tensorFromDecoded(decoded[k % files.length]!, { size: [512, 512], layout: 'nchw', channels: 3, range: [0, 255] }, alloc));
}

async function faces(): Promise<void> {
  const files = read(['faces/groups/bbt1.jpg', 'faces/groups/bbt3.jpg', 'faces/groups/bbt4.jpg', 'faces/single/happy.jpg', 'faces/single/neutral.jpg', 'faces/none/horses.jpg']);
  const probes = await Promise.all(files.map((b) => probeImage(b, limits)));
  const images = await Promise.all(probes.map((p) => decodeRgb(p, 2048)));
  const detector = reused(256 * 256 * 3);
  const crop = reused(192 * 192 * 3);
  const arrays = { take: (m: number) => crop(m), give: () => undefined };
  console.log(`\n### faces, ${files.length} photos\n\n| step | CPU ms |\n| --- | --- |`);
  await step('probe (header, limits)', (k) => probeImage(files[k % files.length]!, limits));
  await step('decode (upright sRGB pixels, up to 2048)', (k) => decodeRgb(probes[k % files.length]!, 2048));
  await step('detector input (whole image, 256 letterbox)', (k) => {
    const img = images[k % files.length]!;
    return squareTensor(img, detectorSquares(img.width, img.height)[0]!, 256, [-1, 1], 'nchw', detector);
  });
  await step('FaceMesh crop, per face candidate (192)', (k) => faceInput(images[k % 3]!, { x1: 100, y1: 40, x2: 212, y2: 152 }, 'facemesh', arrays, 'nchw'));
}

async function segment(): Promise<void> {
  const files = read(['faces/single/happy.jpg', 'faces/single/neutral.jpg', 'faces/padded/identities/amy/01.jpg']);
  const probes = await Promise.all(files.map((b) => probeImage(b, limits)));
  const images = await Promise.all(probes.map((p) => decodeRgb(p, 16_384)));
  const raw = new Float32Array(256 * 256).map((_, k) => (k % 256 > 80 && k % 256 < 180 ? 0.95 : 0.02));
  const mask = () => decodeSegmentation(raw, [1, 256, 256, 1]);
  const alphas = await Promise.all(images.map((img) => alphaFromMask(mask(), img.width, img.height, 2)));
  const spec = { feather: 2, blur: 15, format: 'png' as const };
  const input = reused(256 * 256 * 3);
  console.log(`\n### segment (selfie), ${files.length} portraits (500x282 to 608x276)\n\n| step | CPU ms |\n| --- | --- |`);
  await step('probe (header, limits)', (k) => probeImage(files[k % 3]!, limits));
  await step('decode (upright sRGB pixels)', (k) => decodeRgb(probes[k % 3]!, 16_384));
  await step('model input (256x256 bilinear)', (k) => tensorFromDecoded(images[k % 3]!, { size: [256, 256], layout: 'nhwc', channels: 3, range: [0, 1] }, input));
  await step('mask from the model output', () => mask());
  await step('alpha at the image size (feather 2)', (k) => alphaFromMask(mask(), images[k % 3]!.width, images[k % 3]!.height, 2));
  await step('encode: mask PNG', (k) => composite(images[k % 3]!, alphas[k % 3]!, { ...spec, mode: 'mask' }));
  await step('encode: cutout PNG (RGBA)', (k) => composite({ ...images[k % 3]!, data: Buffer.from(images[k % 3]!.data) }, alphas[k % 3]!, { ...spec, mode: 'cutout' }));
}

console.log(`Request steps besides the models and HTTP, CPU ms per image (${n} calls per step)`);
await objects();
await faces();
await segment();
