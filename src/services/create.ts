import os from 'node:os';
import type { Config } from '../config/env.js';
import { configureImaging } from '../imaging/configure.js';
import { ProcessingService } from './processing.js';

export interface Services {
  processing: ProcessingService;
  /** Images processed at once. */
  concurrency: number;
  imaging: { threadsPerImage: number; libvips: string };
}

/** The services of one process, server or CLI alike, built from the validated configuration. */
export function createServices(config: Config): Services {
  const imaging = configureImaging({ threadsPerImage: config.sharpConcurrency });
  const concurrency = config.processingConcurrency || os.availableParallelism();
  const processing = new ProcessingService({ limits: config.limits, fetchAllowHosts: config.fetchAllowHosts, concurrency });
  return { processing, concurrency, imaging };
}
