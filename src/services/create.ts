import os from 'node:os';
import type { Config } from '../config/env.js';
import { ConfigError } from '../config/env.js';
import { configureImaging } from '../imaging/configure.js';
import { allModels, createModelStore, InferenceRuntime } from '../inference/index.js';
import { CpuBudget } from './cpu-budget.js';
import { ProcessingService } from './processing.js';
import { FaceService } from './faces.js';
import { SegmentationService } from './segmentation.js';
import { VisionService } from './vision/index.js';
import { rgbFromDecoded } from '../imaging/rgb.js';
import { UpscaleService } from './upscale.js';

export interface Services {
  processing: ProcessingService;
  vision: VisionService;
  inference: InferenceRuntime;
  /** Images processed at once. */
  concurrency: number;
  imaging: { threadsPerImage: number; libvips: string };
  cores: number;
  /** Recognition, issue 5 part B: faces on an opened image, portrait segmentation. */
  faces: FaceService;
  segmentation: SegmentationService;
  /** Super-resolution; `jobInference` is the runtime of queued jobs, with fewer threads than cores. */
  upscale: UpscaleService;
  jobInference: InferenceRuntime;
}

/** The services of one process, server or CLI alike, built from the validated configuration. */
export function createServices(config: Config): Services {
  const cores = os.availableParallelism();
  const imaging = configureImaging({ threadsPerImage: config.sharpConcurrency });
  // One image beyond the cores keeps them busy while the event loop turns around (see CpuBudget; bench/processing).
  const budget = new CpuBudget(cores, 1);
  const concurrency = config.processingConcurrency || cores + 1;
  const processing = new ProcessingService({
    limits: config.limits, fetchAllowHosts: config.fetchAllowHosts, concurrency, budget, threadsPerImage: imaging.threadsPerImage,
  });
  const models = allModels(config.dataDir);
  for (const id of config.inference.warm) {
    if (!models.some((m) => m.id === id)) {
      throw new ConfigError(`Expected model ids from imgsense models list for IMGSENSE_WARM_MODELS but received ${JSON.stringify(id)}`);
    }
  }
  const threads = config.inference.threads || cores;
  const inference = new InferenceRuntime(createModelStore(config.dataDir), models, {
    threads,
    workers: config.inference.workers || Math.max(1, Math.floor(cores / threads)),
    concurrencyPerModel: config.inference.concurrencyPerModel,
    batchWindowMs: config.inference.batchWindowMs,
    maxBatch: config.inference.maxBatch,
    provider: config.inference.provider,
    budget,
  });
  const gate = { limits: config.limits, fetchAllowHosts: config.fetchAllowHosts };
  // A face or segmentation request moves between the event loop (crops, tensors), libvips and the model workers;
  // twice the images in flight keep all three busy (bench through HTTP, faces at 16 clients, 3 alternating rounds:
  // 1.72 -> 1.83 cores busy, 45 -> 53 img/s).
  const recognition = config.processingConcurrency || 2 * (cores + 1);
  const faces = new FaceService(inference, { ...config.faces, gate, concurrency: recognition, budget });
  const segmentation = new SegmentationService(inference, { gate, concurrency: recognition, budget });
  const vision = new VisionService({
    limits: config.limits, fetchAllowHosts: config.fetchAllowHosts, runtime: inference, models, budget, threadsPerImage: imaging.threadsPerImage,
    moderation: { block: config.vision.moderationBlock, review: config.vision.moderationReview, maxFrames: config.vision.moderationFrames },
    // analyze: faces from the pixels the other features decoded, with /v1/faces/detect's own parameter checks.
    features: {
      faces: async (ctx, params) => (await faces.detect(ctx.probe, faces.parse(params ?? {}), rgbFromDecoded(await ctx.decoded()))).faces,
    },
  });
  // Jobs run on one lane with fewer threads than the machine has cores, so synchronous requests keep one (runs
  // of several threads also hold the shared budget; single-threaded ones are capped by their lane).
  const jobInference = new InferenceRuntime(createModelStore(config.dataDir), models, {
    threads: config.jobs.threads || Math.max(1, cores - 1),
    concurrencyPerModel: 1,
    batchWindowMs: 0,
    maxBatch: 1,
    provider: config.inference.provider,
    budget,
  });
  const upscale = new UpscaleService({
    limits: config.limits, fetchAllowHosts: config.fetchAllowHosts, inference, defaultModel: config.upscale.defaultModel,
    maxOutputPixels: config.upscale.maxOutputPixels, syncMaxPixels: config.upscale.syncMaxPixels, tileSize: config.upscale.tileSize,
  });
  return { processing, vision, inference, concurrency, imaging, cores, faces, segmentation, upscale, jobInference };
}
