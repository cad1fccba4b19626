/**
 * What each step of a segmentation request costs on its own, in CPU ms per image, on the bench's portraits:
 * the floor under bench/recognition's segment cases, besides HTTP and the model run (which /metrics reports).
 *
 *   npx tsx bench/segment-stages.ts [--n 150]
 *
 * Each step runs alone in a loop (10 warm-ups, then N timed calls over the three portraits) in this process;
 * CPU is process.cpuUsage, so libvips' threads count too. The mask is a synthetic 256x256 sigmoid output (a
 * band of foreground), so the model is not needed: its cost is the server's imgsense_model_cpu_seconds_total.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/env.js';
import { tensorFromDecoded } from '../src/imaging/decoded.js';
import { probeImage } from '../src/imaging/probe.js';
import { decodeRgb } from '../src/imaging/rgb.js';
import { alphaFromMask, composite } from '../src/imaging/segment-composite.js';
import { decodeSegmentation } from '../src/inference/models/segmentation.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/fixtures');
const i = process.argv.indexOf('--n');
const n = i > 0 ? Number(process.argv[i + 1]) : 150;
const limits = loadConfig({}).limits;
const files = ['faces/single/happy.jpg', 'faces/single/neutral.jpg', 'faces/padded/identities/amy/01.jpg'].map((p) => readFileSync(path.join(fixtures, p)));

async function step(name: string, fn: (i: number) => unknown): Promise<number> {
  for (let k = 0; k < 10; k++) await fn(k);
  const c0 = process.cpuUsage();
  for (let k = 0; k < n; k++) await fn(k);
  const c = process.cpuUsage(c0);
  const ms = (c.user + c.system) / 1000 / n;
  console.log(`| ${name} | ${ms.toFixed(2)} |`);
  return ms;
}

const probes = await Promise.all(files.map((b) => probeImage(b, limits)));
const images = await Promise.all(probes.map((p) => decodeRgb(p, 16_384)));
const raw = new Float32Array(256 * 256).map((_, k) => (k % 256 > 80 && k % 256 < 180 ? 0.95 : 0.02));
const mask = () => decodeSegmentation(raw, [1, 256, 256, 1]);
const alphas = await Promise.all(images.map((img) => alphaFromMask(mask(), img.width, img.height, 2)));
const spec = { feather: 2, blur: 15, format: 'png' as const };

console.log(`segment steps, CPU ms per image (${n} calls over 3 portraits, 500x282 to 608x276)\n\n| step | CPU ms |\n| --- | --- |`);
await step('probe (header, limits)', (k) => probeImage(files[k % 3]!, limits));
await step('decode (upright sRGB pixels)', (k) => decodeRgb(probes[k % 3]!, 16_384));
await step('model input (256x256 bilinear)', (k) => tensorFromDecoded(images[k % 3]!, { size: [256, 256], layout: 'nhwc', channels: 3, range: [0, 1] }));
await step('mask from the model output', () => mask());
await step('alpha at the image size (feather 2)', (k) => alphaFromMask(mask(), images[k % 3]!.width, images[k % 3]!.height, 2));
await step('encode: mask PNG', (k) => composite(images[k % 3]!, alphas[k % 3]!, { ...spec, mode: 'mask' }));
await step('encode: cutout PNG (RGBA)', (k) => composite({ ...images[k % 3]!, data: Buffer.from(images[k % 3]!.data) }, alphas[k % 3]!, { ...spec, mode: 'cutout' }));
