import os from 'node:os';
import type { Config } from '../config/env.js';
import { ConfigError } from '../config/env.js';
import { configureImaging } from '../imaging/configure.js';
import { allModels, createModelStore, InferenceRuntime } from '../inference/index.js';
import { CpuBudget } from './cpu-budget.js';
import { ProcessingService } from './processing.js';
import { VisionService } from './vision/index.js';

export interface Services {
  processing: ProcessingService;
  vision: VisionService;
  inference: InferenceRuntime;
  /** Images processed at once. */
  concurrency: number;
  imaging: { threadsPerImage: number; libvips: string };
  cores: number;
}

/** The services of one process, server or CLI alike, built from the validated configuration. */
export function createServices(config: Config): Services {
  const cores = os.availableParallelism();
  const imaging = configureImaging({ threadsPerImage: config.sharpConcurrency });
  const budget = new CpuBudget(cores);
  const concurrency = config.processingConcurrency || cores;
  const processing = new ProcessingService({
    limits: config.limits, fetchAllowHosts: config.fetchAllowHosts, concurrency, budget, threadsPerImage: imaging.threadsPerImage,
  });
  const models = allModels(config.dataDir);
  for (const id of config.inference.warm) {
    if (!models.some((m) => m.id === id)) {
      throw new ConfigError(`Expected model ids from imgsense models list for IMGSENSE_WARM_MODELS but received ${JSON.stringify(id)}`);
    }
  }
  const inference = new InferenceRuntime(createModelStore(config.dataDir), models, {
    threads: config.inference.threads || cores,
    concurrencyPerModel: config.inference.concurrencyPerModel,
    batchWindowMs: config.inference.batchWindowMs,
    maxBatch: config.inference.maxBatch,
    provider: config.inference.provider,
    budget,
  });
  const vision = new VisionService({
    limits: config.limits, fetchAllowHosts: config.fetchAllowHosts, runtime: inference, models, budget, threadsPerImage: imaging.threadsPerImage,
    moderation: { block: config.vision.moderationBlock, review: config.vision.moderationReview, maxFrames: config.vision.moderationFrames },
  });
  return { processing, vision, inference, concurrency, imaging, cores };
}
