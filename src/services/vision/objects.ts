import { cocoClasses } from '../../inference/models/coco-classes.js';
import { detectObjects, type DetectorId } from '../../inference/models/object-detector.js';
import type { InferenceRuntime } from '../../inference/runtime.js';
import type { ImageContext } from './context.js';
import { defaults, type ObjectsRequest } from './params.js';

export interface DetectedObject {
  name: string;
  nameZh: string;
  /** Index in the COCO-80 list (0 person ... 79 toothbrush), as the detectors number them. */
  classId: number;
  /** 0..1 */
  score: number;
  /** Pixels of the original image after EXIF orientation. */
  box: { x: number; y: number; width: number; height: number };
}

export interface ObjectsResult {
  model: DetectorId;
  imageWidth: number;
  imageHeight: number;
  objects: DetectedObject[];
}

/**
 * Every detection of a model at or above the lowest score any caller may ask for, mapped to image pixels;
 * memoised per image so that objects and labels in one analyze call share one detector run.
 */
function allDetections(ctx: ImageContext, runtime: InferenceRuntime, model: DetectorId, minScore: number): Promise<ObjectsResult> {
  return ctx.once(`objects:${model}:${minScore}`, async () => {
    const image = await ctx.decoded();
    const found = await ctx.withTensor(image, runtime.entry(model).input, (input) => detectObjects(runtime, model, input, minScore));
    const W = image.originalWidth;
    const H = image.originalHeight;
    const objects = found.map((d): DetectedObject => {
      const c = cocoClasses[d.classId]!;
      const x = Math.round(d.box.x * W);
      const y = Math.round(d.box.y * H);
      return {
        name: c.name,
        nameZh: c.nameZh,
        classId: c.id,
        score: Math.round(d.score * 1e4) / 1e4,
        box: { x, y, width: Math.min(W - x, Math.round(d.box.width * W)), height: Math.min(H - y, Math.round(d.box.height * H)) },
      };
    });
    return { model, imageWidth: W, imageHeight: H, objects };
  });
}

/** /v1/vision/objects on a decoded image: filter by class and score, best first, at most top_k. */
export async function computeObjects(ctx: ImageContext, runtime: InferenceRuntime, req: ObjectsRequest = {}): Promise<ObjectsResult> {
  const model = (req.model ?? defaults.objects.model) as DetectorId;
  const minScore = req.min_score ?? defaults.objects.min_score;
  const topK = req.top_k ?? defaults.objects.top_k;
  const classes = req.classes && req.classes.length > 0 ? new Set(req.classes) : undefined;
  const all = await allDetections(ctx, runtime, model, minScore);
  const objects = all.objects
    .filter((o) => !classes || classes.has(o.name))
    .sort((a, b) => b.score - a.score)
    .slice(0, topK);
  return { ...all, objects };
}
