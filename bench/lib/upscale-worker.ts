/**
 * One side of one upscale measurement, in its own process so its peak RSS is its own. argv[2] is a JSON
 * UpscaleJob; the last stdout line is a JSON UpscaleSide. Both sides run the same tiled path
 * (src/services/upscale.ts upscaleRgb: same tile plan, same blending) and differ only in the runtime under it:
 * onnxruntime-node on the converted model (InferenceRuntime), or the UpscalerJS model on TF.js with the wasm
 * backend. UpscalerJS itself splits an image into patches with padding the same way (patchSize / padding).
 */
import path from 'node:path';
import sharp from 'sharp';
import { packageDir } from '../../src/inference/convert/sources.js';
import { allModels, createModelStore, InferenceRuntime, type TensorData } from '../../src/inference/index.js';
import { findModel } from '../../src/inference/registry.js';
import { upscaleRgb, type UpscaleRuntime } from '../../src/services/upscale.js';
import { median, peakRssMB } from './measure.js';

export interface UpscaleJob {
  side: 'ort' | 'tfjs';
  model: 'slim' | 'medium' | 'thick';
  scale: 2 | 3 | 4;
  /** The input: a centred crop of `photo`, resized to width x height. */
  photo: string;
  width: number;
  height: number;
  tile: number;
  threads: number;
  dataDir: string;
  /** Timed runs; the median is reported. */
  runs: number;
}

export interface UpscaleSide {
  /** Median wall time of the timed runs (after one warm-up tile), seconds. */
  seconds: number;
  outputMegapixels: number;
  secondsPerOutputMP: number;
  /** Median CPU time of the process (all threads) per timed run: what a loaded machine inflates least. */
  cpuSeconds: number;
  peakRssMB: number;
  tiles: number;
  env?: Record<string, unknown>;
}

async function input(job: UpscaleJob): Promise<{ width: number; height: number; rgb: Uint8Array }> {
  const rgb = await sharp(job.photo).resize(job.width, job.height, { fit: 'cover' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
  return { width: job.width, height: job.height, rgb: new Uint8Array(rgb) };
}

async function tfjsRuntime(id: string): Promise<{ runtime: UpscaleRuntime; env: Record<string, unknown> }> {
  const { loadTfModel, tf, tfReady } = await import('./tfjs-models.js');
  const env = await tfReady();
  const entry = findModel(id)!;
  const model = await loadTfModel(entry.source.format, path.join(packageDir(entry.source.package), entry.source.files[0]!));
  return {
    env,
    runtime: {
      entry: () => entry,
      run: async (_id: string, x: TensorData) => {
        const t = tf.tensor(x.data, x.dims);
        const [out] = await model.run(t);
        t.dispose();
        return { output: { data: out!.data, dims: out!.dims } };
      },
    },
  };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as UpscaleJob;
  const id = `esrgan-${job.model}-x${job.scale}`;
  const image = await input(job);
  let runtime: UpscaleRuntime;
  let env: Record<string, unknown> | undefined;
  let close = async () => {};
  if (job.side === 'ort') {
    const ort = new InferenceRuntime(createModelStore(job.dataDir), allModels(job.dataDir), { threads: job.threads, concurrencyPerModel: 1, batchWindowMs: 0, maxBatch: 1 });
    runtime = ort;
    close = () => ort.close();
  } else {
    ({ runtime, env } = await tfjsRuntime(id));
  }
  // Warm-up: one tile-sized run creates the session / compiles the kernels, which a server does once.
  const side = Math.min(job.tile, job.width, job.height);
  await upscaleRgb(runtime, { width: side, height: side, rgb: image.rgb.subarray(0, side * side * 3) }, job, job.tile);
  let tiles = 0;
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < Math.max(1, job.runs); i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await upscaleRgb(runtime, image, job, job.tile, { onProgress: (_d, total) => { tiles = total; } });
    const c = process.cpuUsage(c0);
    times.push((performance.now() - t0) / 1000);
    cpu.push((c.user + c.system) / 1e6);
  }
  const seconds = median(times);
  const cpuSeconds = median(cpu);
  const outputMegapixels = (job.width * job.scale * job.height * job.scale) / 1e6;
  await close();
  const result: UpscaleSide = { seconds, outputMegapixels, secondsPerOutputMP: seconds / outputMegapixels, cpuSeconds, peakRssMB: peakRssMB(), tiles, ...(env && { env }) };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
