import { decodeForModels, decodeFrames, tensorFromDecoded, type DecodedFrame, type DecodedImage } from '../../imaging/decoded.js';
import type { ImageProbe } from '../../imaging/probe.js';
import type { InputSpec } from '../../inference/registry.js';
import type { TensorData } from '../../inference/runtime.js';
import { modelDecodes } from '../../observability/metrics.js';
import { TensorPool } from '../tensor-pool.js';

const tensors = new TensorPool();

/**
 * How the image is decoded for the models: as stored up to 2048 on the longer side (models then sample from
 * the same pixels the reference library samples from), shrunk past that (JPEG shrink-on-load keeps a 12 MP
 * photo cheap). Animation frames only feed the 224-299 moderation models: 512 is plenty.
 */
export const decodeSize = { maxSide: 2048, frameSide: 512 } as const;

export interface ContextDeps {
  /** Runs CPU-heavy image work within the shared core budget. */
  cpu<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * The largest input side of the models this request runs, when all of them take a fixed size: a large JPEG
   * is then decoded at a DCT scale that keeps at least this many pixels on both sides (decodeForModels).
   * Absent: as stored, up to maxSide (faces crop from the full resolution).
   */
  modelSide?: number;
}

/**
 * One image on its way through one or several recognition features: the probe from the input gate, the
 * pixels decoded at most once (and the animation frames at most once), and each feature's result computed
 * at most once, so that labels can reuse the objects and the moderation scores of the same call.
 */
export class ImageContext {
  private decodedImage?: Promise<DecodedImage>;
  private readonly decodedFrames = new Map<string, Promise<DecodedFrame[]>>();
  private readonly results = new Map<string, Promise<unknown>>();

  constructor(readonly probe: ImageProbe, private readonly deps: ContextDeps) {}

  /** The first frame, upright, decoded once. */
  decoded(): Promise<DecodedImage> {
    this.decodedImage ??= this.deps.cpu(() => {
      modelDecodes.inc({ frames: '1' });
      return decodeForModels(this.probe, decodeSize.maxSide, this.deps.modelSide);
    });
    return this.decodedImage;
  }

  /** Chosen frames of an animation (the first frame alone for a still image), decoded once. */
  frames(indices: readonly number[]): Promise<DecodedFrame[]> {
    if (!this.probe.animated || this.probe.frames <= 1) {
      return this.decoded().then((image) => [{ index: 0, image }]);
    }
    const key = indices.join(',');
    let frames = this.decodedFrames.get(key);
    if (!frames) {
      frames = this.deps.cpu(() => {
        modelDecodes.inc({ frames: String(indices.length) });
        return decodeFrames(this.probe, indices, decodeSize.frameSide);
      });
      this.decodedFrames.set(key, frames);
    }
    return frames;
  }

  /**
   * A model input from decoded pixels (a few milliseconds of JS; no libvips work), lent to `use`: its array
   * goes back to the pool when `use` settles, so `use` must not keep it (a model run does not).
   */
  async withTensor<T>(image: DecodedImage, input: InputSpec, use: (tensor: TensorData) => Promise<T>): Promise<T> {
    const tensor = tensorFromDecoded(image, input, (n) => tensors.take(n));
    try {
      return await use(tensor);
    } finally {
      tensors.give(tensor.data);
    }
  }

  /** Other image work on this image within the CPU budget (drawing for the CLI). */
  cpuWork<T>(fn: () => Promise<T>): Promise<T> {
    return this.deps.cpu(fn);
  }

  /** Memoises a feature's result for the lifetime of this context (one request). */
  once<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let r = this.results.get(key) as Promise<T> | undefined;
    if (!r) {
      r = compute();
      this.results.set(key, r);
    }
    return r;
  }
}
