import { Type, type Static } from '@sinclair/typebox';
import type { Limits } from '../config/limits.js';
import { AppError } from '../errors/app-error.js';
import { outputSchema, type OutputSpec } from '../imaging/operations.js';
import type { ImageProbe } from '../imaging/probe.js';
import { checkOutput, decodeRgb, encodeUpscaled, resizeAlpha, uprightSize, type EncodedImage } from '../imaging/upscale-io.js';
import type { TensorData } from '../inference/index.js';
import { bytesOut, upscaleTiles } from '../observability/metrics.js';
import { openImageSource, type ImageSource } from './image-input.js';
import { accumulateTile, createAccumulator, extractTile, planTiles, resolveAccumulator, toBytes, type TileRect } from './upscale-tiles.js';
import { validate } from './validate.js';

/**
 * ESRGAN super-resolution: the request descriptor, the limits checked from the header, and the tiled run over
 * the inference runtime (src/services/upscale-tiles.ts holds the pixel maths). The same run serves a
 * synchronous request, a queued job (with a tile store, for resume) and the CLI (with a progress callback).
 */
export const upscaleModels = ['slim', 'medium', 'thick'] as const;
export type UpscaleModel = (typeof upscaleModels)[number];

export const upscaleFieldsSchema = Type.Object({
  scale: Type.Optional(Type.Integer({ minimum: 2, maximum: 4, default: 2, description: 'enlargement factor: 2, 3 or 4' })),
  model: Type.Optional(Type.Unsafe<UpscaleModel>({ type: 'string', enum: [...upscaleModels], description: 'ESRGAN size (default: the operator default, slim unless changed)' })),
  output: Type.Optional(outputSchema),
}, { additionalProperties: false });

export interface UpscaleParams {
  scale: 2 | 3 | 4;
  model: UpscaleModel;
  output: OutputSpec;
}

/** What the model side needs: the runtime's run() and a model's input range. */
export interface UpscaleRuntime {
  run(id: string, input: TensorData): Promise<Record<string, TensorData>>;
  entry(id: string): { input: { range: [number, number] } };
}

/** Where a job keeps finished tiles so that a restart resumes after the last one. */
export interface TileStore {
  load(index: number): Promise<Uint8Array | undefined>;
  save(index: number, bytes: Uint8Array): Promise<void>;
}

export interface UpscaleOptions {
  limits: Limits;
  fetchAllowHosts: readonly string[];
  /** The runtime of synchronous requests (all cores); jobs pass their own. */
  inference: UpscaleRuntime;
  defaultModel: UpscaleModel;
  /** Largest result, width x height, checked from the header. */
  maxOutputPixels: number;
  /** Inputs up to this many pixels are answered in the request; larger ones become jobs. */
  syncMaxPixels: number;
  /** Model input tile side, in pixels. */
  tileSize: number;
}

/** A request checked against every limit, before any pixel is decoded. */
export interface PreparedUpscale {
  probe: ImageProbe;
  params: UpscaleParams;
  width: number;
  height: number;
  outWidth: number;
  outHeight: number;
  tiles: number;
  sync: boolean;
}

export interface RunOptions {
  runtime?: UpscaleRuntime;
  tiles?: TileStore;
  /** Tiles done (restored ones included) out of the total, after each tile. */
  onProgress?: (done: number, total: number) => void;
  /** Checked before each tile: a cancelled job stops at the next tile. */
  signal?: AbortSignal;
  /** Epoch ms, checked before each tile (synchronous requests). */
  deadline?: number;
}

/** Overlap in input pixels: enough context for the convolutions at a tile edge, a quarter of small tiles. */
export function overlapFor(tile: number): number {
  return Math.min(16, Math.floor(tile / 4));
}

export const modelId = (p: Pick<UpscaleParams, 'model' | 'scale'>): string => `esrgan-${p.model}-x${p.scale}`;

export class UpscaleService {
  constructor(readonly opts: UpscaleOptions) {}

  /** Request fields (all but the image) to a complete descriptor; the message names the parameter. */
  parse(fields: unknown, opts: { coerce?: boolean } = {}): UpscaleParams {
    const body = validate<Static<typeof upscaleFieldsSchema>>(upscaleFieldsSchema, fields ?? {}, '', opts);
    return { scale: (body.scale ?? 2) as 2 | 3 | 4, model: body.model ?? this.opts.defaultModel, output: body.output ?? {} };
  }

  /** The input gate, then the output limits, from the header alone. */
  async prepare(source: ImageSource, fields: unknown, opts: { coerce?: boolean; signal?: AbortSignal } = {}): Promise<PreparedUpscale> {
    const params = this.parse(fields, opts);
    const probe = await openImageSource(source, this.opts, opts.signal);
    return this.check(probe, params);
  }

  check(probe: ImageProbe, params: UpscaleParams): PreparedUpscale {
    checkOutput(probe, params.output);
    const { width, height } = uprightSize(probe);
    const outWidth = width * params.scale;
    const outHeight = height * params.scale;
    const max = this.opts.maxOutputPixels;
    if (outWidth * outHeight > max) {
      throw new AppError(
        'FailedOperation.UpscaleOutputTooLarge',
        `Expected a result of at most ${max} pixels (IMGSENSE_UPSCALE_MAX_OUTPUT_PIXELS) for scale ${params.scale} but received an image of ${width}x${height}, which would give ${outWidth}x${outHeight} = ${outWidth * outHeight}`,
      );
    }
    const tiles = planTiles(width, height, this.opts.tileSize, overlapFor(this.opts.tileSize)).length;
    return { probe, params, width, height, outWidth, outHeight, tiles, sync: width * height <= this.opts.syncMaxPixels };
  }

  /** Decodes, upscales tile by tile, re-attaches the enlarged alpha, encodes. */
  async run(prep: PreparedUpscale, opts: RunOptions = {}): Promise<EncodedImage> {
    const runtime = opts.runtime ?? this.opts.inference;
    const image = await decodeRgb(prep.probe);
    const rgb = await upscaleRgb(runtime, image, prep.params, this.opts.tileSize, opts);
    const out = { width: image.width * prep.params.scale, height: image.height * prep.params.scale };
    const alpha = image.alpha && (await resizeAlpha(image.alpha, image, out));
    const encoded = await encodeUpscaled(prep.probe, prep.params.output, rgb, alpha, out.width, out.height);
    bytesOut.inc(encoded.data.length);
    return encoded;
  }
}

function stopIfAsked(opts: RunOptions, index: number): void {
  if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
  if (opts.deadline !== undefined && Date.now() > opts.deadline) {
    throw new AppError('FailedOperation.ProcessingTimeout', `Upscaling stopped at tile ${index}: the request took longer than the server allows (IMGSENSE_PROCESS_TIMEOUT_MS)`);
  }
}

async function runTile(runtime: UpscaleRuntime, id: string, image: { width: number; rgb: Uint8Array }, rect: TileRect, range: [number, number]): Promise<Uint8Array> {
  const input = extractTile(image.rgb, image.width, rect, (range[1] - range[0]) / 255, range[0]);
  const out = await runtime.run(id, { data: input, dims: [1, rect.height, rect.width, 3] });
  const first = Object.values(out)[0];
  if (!first) throw new Error(`${id} produced no output`);
  return toBytes(first.data, range);
}

/**
 * The tiled run on pixels: each tile is taken from the tile store when a previous run finished it, otherwise run
 * through the model and saved; all of them are blended into one image.
 */
export async function upscaleRgb(
  runtime: UpscaleRuntime,
  image: { width: number; height: number; rgb: Uint8Array },
  params: Pick<UpscaleParams, 'model' | 'scale'>,
  tileSize: number,
  opts: RunOptions = {},
): Promise<Uint8Array> {
  const id = modelId(params);
  const range = runtime.entry(id).input.range;
  const overlap = overlapFor(tileSize);
  const tiles = planTiles(image.width, image.height, tileSize, overlap);
  const acc = createAccumulator(image.width * params.scale, image.height * params.scale);
  const expected = (r: TileRect) => r.width * r.height * params.scale * params.scale * 3;
  let done = 0;
  for (const rect of tiles) {
    let bytes = await opts.tiles?.load(rect.index);
    if (!bytes || bytes.length !== expected(rect)) {
      stopIfAsked(opts, rect.index);
      bytes = await runTile(runtime, id, image, rect, range);
      upscaleTiles.inc({ model: id });
      await opts.tiles?.save(rect.index, bytes);
    }
    accumulateTile(acc, bytes, rect, params.scale, overlap * params.scale, image);
    opts.onProgress?.(++done, tiles.length);
  }
  return resolveAccumulator(acc);
}
