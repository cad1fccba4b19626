import { openImageSource } from '../services/image-input.js';
import type { UpscaleParams, UpscaleRuntime, UpscaleService } from '../services/upscale.js';
import type { JobHandler } from './queue.js';

/**
 * The upscale job: the stored input passes the same gate and limits again (the operator may have lowered them
 * since), then the tiled run on the jobs' own runtime (fewer threads than cores), saving each tile for resume.
 */
export function upscaleJob(service: UpscaleService, runtime: UpscaleRuntime): JobHandler {
  return async (ctx) => {
    const probe = await openImageSource({ kind: 'bytes', bytes: ctx.input }, service.opts);
    const prep = service.check(probe, ctx.params as unknown as UpscaleParams);
    const out = await service.run(prep, { runtime, tiles: ctx.tiles, signal: ctx.signal, onProgress: ctx.onProgress });
    return { data: out.data, format: out.format, contentType: out.contentType, width: out.width, height: out.height };
  };
}
