import type { Limits } from '../../config/limits.js';
import { AppError } from '../../errors/app-error.js';
import type { ModelEntry } from '../../inference/registry.js';
import type { InferenceRuntime } from '../../inference/runtime.js';
import { openImageSource, type ImageSource } from '../image-input.js';
import { validate } from '../validate.js';
import { drawMarkings } from '../../imaging/draw.js';
import { ImageContext } from './context.js';
import { checkFeatures, type FeatureRegistry } from './features.js';
import { computeLabels, type LabelsResult } from './labels.js';
import { computeModeration, type ModerationPolicy, type ModerationResult } from './moderation.js';
import { computeObjects, type ObjectsResult } from './objects.js';
import type { CoreBudget } from '../cpu-budget.js';
import { detectorIds } from '../../inference/models/object-detector.js';
import {
  AnalyzeParams, LabelsParams, ModerationParams, ObjectsParams, defaults, moderationModels,
  type AnalyzeRequest, type FeatureName, type LabelsRequest, type ModerationRequest, type ObjectsRequest,
} from './params.js';

export interface VisionOptions {
  limits: Limits;
  fetchAllowHosts: readonly string[];
  runtime: InferenceRuntime;
  moderation: ModerationPolicy;
  /** Every model of this installation; operator classifiers with labels feed /v1/vision/labels. */
  models: readonly ModelEntry[];
  budget?: CoreBudget;
  threadsPerImage?: number;
  /** Extra analyze features (faces, at merge time). */
  features?: FeatureRegistry;
}

export interface CallOptions {
  /** Multipart fields and CLI flags arrive as text. */
  coerce?: boolean;
  signal?: AbortSignal;
}

export type AnalyzeResult = { objects?: ObjectsResult['objects']; labels?: LabelsResult['labels']; moderation?: ModerationResult } & Record<string, unknown>;

/**
 * Recognition on one image: the input gate, one decode shared by every model the call needs, then detectors
 * and classifiers on the inference runtime. Parameters are checked here too, so HTTP and CLI answer alike.
 */
export class VisionService {
  readonly features: FeatureRegistry;
  private readonly classifiers: ModelEntry[];

  constructor(private readonly opts: VisionOptions) {
    this.classifiers = opts.models.filter((m) => m.task === 'classification' && (m.labels?.length ?? 0) > 0);
    const labelDeps = { runtime: opts.runtime, policy: opts.moderation, classifiers: this.classifiers };
    this.features = {
      objects: (ctx, p) => computeObjects(ctx, opts.runtime, validate<ObjectsRequest>(ObjectsParams, p ?? {}, 'objects')).then((r) => r.objects),
      labels: (ctx, p) => computeLabels(ctx, labelDeps, validate<LabelsRequest>(LabelsParams, p ?? {}, 'labels')).then((r) => r.labels),
      moderation: (ctx, p) => computeModeration(ctx, opts.runtime, opts.moderation, validate<ModerationRequest>(ModerationParams, p ?? {}, 'moderation')),
      ...opts.features,
    };
  }

  /** `models`: the ids the call runs, when known (their input size bounds the decode); absent: full size. */
  private async open(source: ImageSource, opts: CallOptions, models?: readonly string[]): Promise<ImageContext> {
    const probe = await openImageSource(source, this.opts, opts.signal);
    const { budget, threadsPerImage = 1 } = this.opts;
    return new ImageContext(probe, { cpu: (fn) => (budget ? budget.run(threadsPerImage, fn) : fn()), modelSide: models && this.modelSide(models) });
  }

  /** The largest input side of these models; undefined when one of them takes any size. */
  private modelSide(ids: readonly string[]): number | undefined {
    let side = 0;
    for (const id of ids) {
      const size = this.opts.runtime.entry(id).input.size;
      if (!size) return undefined;
      side = Math.max(side, ...size);
    }
    return side;
  }

  /** Every model objects, labels and moderation may run: labels and analyze decode for all of them. */
  private get visionModels(): readonly string[] {
    this.allVisionModels ??= [...detectorIds, ...moderationModels, ...this.classifiers.map((c) => c.id)];
    return this.allVisionModels;
  }

  private allVisionModels?: readonly string[];

  async objects(source: ImageSource, fields: unknown, opts: CallOptions = {}): Promise<ObjectsResult> {
    const req = validate<ObjectsRequest>(ObjectsParams, fields ?? {}, '', { coerce: opts.coerce ?? false });
    return computeObjects(await this.open(source, opts, [req.model ?? defaults.objects.model]), this.opts.runtime, req);
  }

  /** objects(), plus the image with the boxes drawn (the CLI's detect --draw), from the same probe. */
  async objectsDrawn(source: ImageSource, fields: unknown, format: 'jpeg' | 'png' | 'webp', opts: CallOptions = {}): Promise<{ result: ObjectsResult; image: Buffer }> {
    const req = validate<ObjectsRequest>(ObjectsParams, fields ?? {}, '', { coerce: opts.coerce ?? false });
    const ctx = await this.open(source, opts, [req.model ?? defaults.objects.model]);
    const result = await computeObjects(ctx, this.opts.runtime, req);
    const boxes = result.objects.map((o) => ({ label: `${o.name} ${Math.round(o.score * 100)}%`, box: o.box }));
    const image = await ctx.cpuWork(() => drawMarkings(ctx.probe, boxes, format));
    return { result, image };
  }

  async moderation(source: ImageSource, fields: unknown, opts: CallOptions = {}): Promise<ModerationResult> {
    const req = validate<ModerationRequest>(ModerationParams, fields ?? {}, '', { coerce: opts.coerce ?? false });
    return computeModeration(await this.open(source, opts, [req.model ?? defaults.moderation.model]), this.opts.runtime, this.opts.moderation, req);
  }

  async labels(source: ImageSource, fields: unknown, opts: CallOptions = {}): Promise<LabelsResult> {
    const req = validate<LabelsRequest>(LabelsParams, fields ?? {}, '', { coerce: opts.coerce ?? false });
    return computeLabels(await this.open(source, opts, this.visionModels), { runtime: this.opts.runtime, policy: this.opts.moderation, classifiers: this.classifiers }, req);
  }

  /**
   * Several features on one decoded image. `computed` lists the features answered, in request order, for
   * metering one unit each.
   */
  async analyze(source: ImageSource, fields: unknown, opts: CallOptions = {}): Promise<{ result: AnalyzeResult; computed: FeatureName[] }> {
    const req = validate<AnalyzeRequest>(AnalyzeParams, fields ?? {}, '', { coerce: opts.coerce ?? false });
    const wanted = checkFeatures(this.features, req.features);
    for (const key of ['objects', 'labels', 'moderation', 'faces'] as const) {
      if (req[key] !== undefined && !wanted.includes(key)) {
        throw validateError(key, wanted);
      }
    }
    // Faces (and any other registered feature) crop from the full resolution.
    const ctx = await this.open(source, opts, wanted.every((f) => f === 'objects' || f === 'labels' || f === 'moderation') ? this.visionModels : undefined);
    const parts = await Promise.all(wanted.map((name) => this.features[name]!(ctx, (req as Record<string, unknown>)[name] as Record<string, unknown> | undefined)));
    const result: Record<string, unknown> = {};
    wanted.forEach((name, i) => { result[name] = parts[i]; });
    return { result: result as AnalyzeResult, computed: wanted };
  }
}

function validateError(key: string, wanted: readonly string[]): AppError {
  return new AppError('InvalidParameter', `Expected ${key} parameters only with ${key} in features but received them with features ${wanted.join(', ')}`);
}
