import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process; /metrics renders it. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'imgsense_' });

export const httpRequests = new Counter({
  name: 'imgsense_http_requests_total',
  help: 'HTTP requests by route, method and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'imgsense_http_request_duration_seconds',
  help: 'HTTP request latency by route',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const imagesDecoded = new Counter({
  name: 'imgsense_images_decoded_total',
  help: 'Images that passed the input gate, by sniffed format',
  labelNames: ['format'] as const,
  registers: [registry],
});

export const bytesIn = new Counter({
  name: 'imgsense_image_bytes_in_total',
  help: 'Bytes of images received (upload, base64 or URL)',
  registers: [registry],
});

export const bytesOut = new Counter({
  name: 'imgsense_image_bytes_out_total',
  help: 'Bytes of images sent back',
  registers: [registry],
});

export const modelDecodes = new Counter({
  name: 'imgsense_model_decodes_total',
  help: 'Pixel decodes for recognition models (an analyze call decodes once for all its features)',
  labelNames: ['frames'] as const,
  registers: [registry],
});

/** Time inside the inference workers, apart from the request around it (decode, crops, encoding, HTTP). */
export const modelRunSeconds = new Histogram({
  name: 'imgsense_model_run_seconds',
  help: 'Model runs (onnxruntime session.run in an inference worker, wall clock) by model; a micro-batch is one run',
  labelNames: ['model'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  registers: [registry],
});

/**
 * The runs' CPU time on their worker threads (Linux only). Unlike the wall clock it does not grow while a run
 * waits for a core, so per answer it is the models' share of a request's CPU (bench/recognition.ts prints it).
 */
export const modelCpuSeconds = new Counter({
  name: 'imgsense_model_cpu_seconds_total',
  help: 'CPU time of model runs on their inference worker threads, by model (with the default single intra-op thread, all of the run; Linux only)',
  labelNames: ['model'] as const,
  registers: [registry],
});

// Super-resolution and jobs (issue 6).
export const upscaleTiles = new Counter({
  name: 'imgsense_upscale_tiles_total',
  help: 'ESRGAN tiles run through a model (tiles restored from disk on resume are not counted), by model',
  labelNames: ['model'] as const,
  registers: [registry],
});

export const jobsFinished = new Counter({
  name: 'imgsense_jobs_finished_total',
  help: 'Jobs that ended in this process, by kind and final state (succeeded, failed, cancelled)',
  labelNames: ['kind', 'state'] as const,
  registers: [registry],
});
