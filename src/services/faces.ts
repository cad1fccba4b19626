import { faceInput } from '../imaging/face-crops.js';
import type { ImageProbe } from '../imaging/probe.js';
import { decodeRgb, squareTensor, type RgbImage } from '../imaging/rgb.js';
import { decodeAge, decodeEmotion, decodeGender, decodeLiveness, type Emotion, type Gender } from '../inference/models/face/attributes.js';
import { assembleOutputs, blazefaceAnchors, decodeBlazeface, type Box, type Candidate } from '../inference/models/face/blazeface.js';
import { faceCropBox, keypointLandmarks, meshBox, meshLandmarks, meshToImage, type Landmark, type Point3 } from '../inference/models/face/mesh.js';
import { iou, nms, overlapOfSmaller } from '../inference/models/face/nms.js';
import { poseFromKeypoints, poseFromMesh, type Pose } from '../inference/models/face/pose.js';
import { faceQuality, type Quality } from '../inference/models/face/quality.js';
import { builtinModels } from '../inference/registry.js';
import { detectorSquares, touchesInnerEdge, zoomedOutSquare, type Square } from '../inference/models/face/tiles.js';
import type { TensorData } from '../inference/runtime.js';
import { AppError } from '../errors/app-error.js';
import { parseFaceDetectRequest, type FaceDetectOptions } from './faces-request.js';
import { openImageSource, type ImageSource, type InputGateOptions } from './image-input.js';
import { Semaphore } from './semaphore.js';
import { TensorPool } from './tensor-pool.js';
import type { CoreBudget } from './cpu-budget.js';

/** The slice of the inference runtime this service needs (tests may hand in a fake). */
export interface ModelRunner {
  run(id: string, input: TensorData): Promise<Record<string, TensorData>>;
}

export interface FaceServiceOptions {
  /** The operator's ceiling (and default) for max_faces. */
  maxFaces: number;
  /** The input gate's limits, for detectSource. */
  gate?: InputGateOptions;
  /** Images worked on at once; more wait (and past limits.maxQueue get a 429). */
  concurrency?: number;
  /** Faces whose shorter side is below this many original pixels come back with tooSmall: true. */
  minFaceSize: number;
  /** Decoded working image's longest side; larger images are shrunk once on decode. */
  workingSize?: number;
  /** Shared with image processing so decode and inference never oversubscribe the cores. */
  budget?: CoreBudget;
}

export interface FaceAttributes {
  age?: number;
  gender?: Gender;
  emotion?: Emotion;
  pose?: Pose;
  quality?: Quality;
  liveness?: { score: number };
}

export interface DetectedFace {
  box: { x: number; y: number; width: number; height: number };
  score: number;
  landmarks: Landmark[];
  attributes?: FaceAttributes;
  tooSmall?: true;
}

export interface FaceDetectResult {
  imageWidth: number;
  imageHeight: number;
  faces: DetectedFace[];
}

/** Detector model, its input side, the IoU that merges overlapping detections, the mesh score that confirms a face. */
export const detectorModel = 'blazeface';
const detectorSize = 256;
/** The layout each model's converted graph takes (the registry's; BlazeFace and FaceMesh take NCHW), looked up once. */
const layouts = new Map(builtinModels.map((m) => [m.id, m.input.layout]));
const layoutOf = (id: string) => layouts.get(id) ?? 'nhwc';
const detectorLayout = layoutOf(detectorModel);
const nmsIou = 0.3;
const nmsContainment = 0.6;
const meshMinScore = 0.8;
/**
 * When the squares are worth their runs (docs/models.md, "When the squares run"): the whole-image pass found a
 * face narrower than `tinyFace` detector pixels (faces that small are where it starts to miss some), or left a
 * candidate of at least `squareHint` narrower than `smallFace` unconfirmed (a face it saw but could not resolve).
 */
const tinyFace = 12;
const smallFace = 32;
const squareHint = 0.4;
/** A whole-image candidate this sure (though below min_score) makes the zoomed-out pass worth running. */
const zoomHint = 0.3;

interface Found {
  score: number;
  /** Detector box (working pixels), what the model crops are cut around. */
  detectorBox: Box;
  /** Reported box: the mesh's extent when the mesh ran, else the detector's. */
  box: Box;
  keypoints: Candidate['keypoints'];
  mesh?: Point3[];
}

/**
 * Face detection and attributes on an already opened image (the HTTP route, the CLI and /v1/vision/analyze all
 * hand in an ImageProbe). One decode per image; every model reads crops of that one buffer.
 */
export class FaceService {
  private readonly anchors = blazefaceAnchors(detectorSize);
  private readonly slots: Semaphore;
  /**
   * The models' inputs, reused: a face with attributes takes 1.3 MB of crops, and fresh arrays of that size
   * cost their page faults every time (0.15 ms for one facemesh crop) and the garbage collector its marking.
   */
  private readonly tensors = new TensorPool(8);

  constructor(private readonly models: ModelRunner, private readonly opts: FaceServiceOptions) {
    this.slots = new Semaphore(opts.concurrency ?? 2);
  }

  /** The request's fields checked against the operator's limits; throws the catalogued 4xx. */
  parse(fields: Record<string, unknown>, opts: { coerce?: boolean } = {}): FaceDetectOptions {
    return parseFaceDetectRequest(fields, this.opts.maxFaces, opts);
  }

  /** HTTP and CLI entry: fields checked first (no fetch for a bad request), then the input gate, then detect. */
  async detectSource(source: ImageSource, fields: Record<string, unknown>, opts: { coerce?: boolean; signal?: AbortSignal } = {}): Promise<FaceDetectResult> {
    const options = this.parse(fields, opts);
    const gate = this.opts.gate;
    if (!gate) throw new Error('FaceService: no input gate configured');
    const probe = await openImageSource(source, gate, opts.signal);
    if (this.slots.pending >= gate.limits.maxQueue) {
      throw new AppError('RequestLimitExceeded', `Expected at most ${gate.limits.maxQueue} requests waiting for face detection but received one more`, { headers: { 'Retry-After': '1' } });
    }
    return this.slots.run(() => this.detect(probe, options));
  }

  private cpu<T>(fn: () => Promise<T>): Promise<T> {
    return this.opts.budget ? this.opts.budget.run(1, fn) : fn();
  }

  /** `decoded`: pixels another feature of the same call already decoded (analyze decodes once). */
  async detect(probe: ImageProbe, options: FaceDetectOptions, decoded?: RgbImage): Promise<FaceDetectResult> {
    const img = decoded ?? await this.cpu(() => decodeRgb(probe, this.opts.workingSize ?? 2048));
    const [whole, ...tiles] = detectorSquares(img.width, img.height);
    const seen = await this.candidates(img, [whole!], Math.min(options.minScore, zoomHint, squareHint));
    const first = seen.filter((c) => c.score >= options.minScore);
    let confirmed = await this.confirmAll(img, first);
    // Squares of the shorter side give small faces more detector pixels. They cost a detector run each, so they
    // run only on evidence that the whole-image pass is at the edge of its resolution, not for every group photo.
    const k = detectorSize / whole!.size;
    const width = (b: Box) => (b.x2 - b.x1) * k;
    const tiny = confirmed.some((f) => width(f.detectorBox) < tinyFace);
    const hint = seen.some((c) => c.score >= squareHint && width(c.box) < smallFace
      && confirmed.every((f) => iou(f.detectorBox, c.box) <= nmsIou && overlapOfSmaller(f.detectorBox, c.box) <= nmsContainment));
    if (tiles.length > 0 && (tiny || hint)) {
      const fresh = (await this.candidates(img, tiles, options.minScore))
        .filter((c) => first.every((f) => iou(f.box, c.box) <= nmsIou && overlapOfSmaller(f.box, c.box) <= nmsContainment));
      confirmed = confirmed.concat(await this.confirmAll(img, fresh));
    }
    // Nothing found, but the whole-image pass saw a hint of a face: perhaps one fills the frame (a tight crop,
    // which BlazeFace scores 0.55-0.58 on the fixtures, where clean no-face photos score 0.14-0.26); look again
    // zoomed out.
    if (confirmed.length === 0 && seen.some((c) => c.score >= zoomHint)) confirmed = await this.confirmAll(img, await this.candidates(img, [zoomedOutSquare(img.width, img.height)], options.minScore));
    // Two detections can settle on one face once the mesh has framed them; keep the better one.
    const faces = nms(confirmed, 0.5, { containment: 0.8 })
      .sort((a, b) => area(b.box) - area(a.box))
      .slice(0, options.maxFaces);
    const out = await Promise.all(faces.map((f) => this.describe(img, f, options)));
    return { imageWidth: img.original.width, imageHeight: img.original.height, faces: out };
  }

  private async confirmAll(img: RgbImage, candidates: readonly Candidate[]): Promise<Found[]> {
    return (await Promise.all(candidates.map((c) => this.confirm(img, c)))).filter((f): f is Found => f !== undefined);
  }

  /** Detector passes (whole image, then overlapping squares), decoded into working-image pixels and merged. */
  private async candidates(img: RgbImage, squares: readonly Square[], minScore: number): Promise<Candidate[]> {
    const all: Candidate[] = [];
    for (const sq of squares) {
      const data = await this.cpu(() => squareTensor(img, sq, detectorSize, [-1, 1], detectorLayout, (n) => this.tensors.take(n)));
      const dims = detectorLayout === 'nchw' ? [1, 3, detectorSize, detectorSize] : [1, detectorSize, detectorSize, 3];
      const out = await this.models.run(detectorModel, { data, dims }).finally(() => this.tensors.give(data));
      const k = sq.size / detectorSize;
      for (const c of decodeBlazeface(assembleOutputs(out), this.anchors, minScore)) {
        const box = { x1: sq.x + c.box.x1 * k, y1: sq.y + c.box.y1 * k, x2: sq.x + c.box.x2 * k, y2: sq.y + c.box.y2 * k };
        if (touchesInnerEdge(box, sq, img.width, img.height)) continue;
        all.push({ score: c.score, box, keypoints: c.keypoints.map((p) => ({ x: sq.x + p.x * k, y: sq.y + p.y * k })) });
      }
    }
    return nms(all, nmsIou, { containment: nmsContainment });
  }

  /**
   * FaceMesh on the detector's crop: its face score rejects what BlazeFace alone takes for a face (a dog, the
   * back of a head; see docs/models.md), and its 468 points give the tight box, the landmarks and the pose.
   */
  private async confirm(img: RgbImage, c: Candidate): Promise<Found | undefined> {
    const crop = faceCropBox(c.box);
    const out = await this.runCrop('facemesh', img, crop);
    const tensors = Object.values(out);
    const score = tensors.find((t) => t.dims.at(-1) === 1)?.data[0] ?? 0;
    const raw = tensors.find((t) => t.dims.at(-1) === 1404)?.data;
    if (score < meshMinScore || !raw) return undefined;
    const mesh = meshToImage(raw, crop);
    return { score: c.score, detectorBox: c.box, box: meshBox(mesh), keypoints: c.keypoints, mesh };
  }

  /** A model on its crop of the image; the input array goes back to the pool once the run has settled. */
  private runCrop(model: 'facemesh' | 'faceres' | 'emotion' | 'antispoof' | 'liveness', img: RgbImage, crop: Box): Promise<Record<string, TensorData>> {
    const input = faceInput(img, crop, model, this.tensors, layoutOf(model));
    return this.models.run(model, input).finally(() => this.tensors.give(input.data));
  }

  private async describe(img: RgbImage, f: Found, options: FaceDetectOptions): Promise<DetectedFace> {
    const s = img.scale;
    const x = Math.max(0, f.box.x1 * s);
    const y = Math.max(0, f.box.y1 * s);
    const width = Math.min(img.original.width, f.box.x2 * s) - x;
    const height = Math.min(img.original.height, f.box.y2 * s) - y;
    const landmarks = (f.mesh ? meshLandmarks(f.mesh) : keypointLandmarks(f.keypoints))
      .map((l) => ({ name: l.name, x: Math.round(l.x * s), y: Math.round(l.y * s) }));
    const face: DetectedFace = {
      box: { x: Math.round(x), y: Math.round(y), width: Math.round(width), height: Math.round(height) },
      score: Math.round(f.score * 1000) / 1000,
      landmarks,
    };
    const tooSmall = Math.min(width, height) < this.opts.minFaceSize;
    if (tooSmall) face.tooSmall = true;
    // Attribute models cannot read a face smaller than the operator's minimum; such faces are reported bare.
    if (options.attributes.size > 0 && !tooSmall) face.attributes = await this.attributes(img, f, options, Math.min(width, height));
    return face;
  }

  private async attributes(img: RgbImage, f: Found, options: FaceDetectOptions, faceSize: number): Promise<FaceAttributes> {
    const want = options.attributes;
    const crop = faceCropBox(f.detectorBox);
    const attrs: FaceAttributes = {};
    const jobs: Promise<void>[] = [];
    if (want.has('age') || want.has('gender')) {
      jobs.push(this.runCrop('faceres', img, crop).then((out) => {
        const t = Object.values(out);
        const gender = t.find((o) => o.dims.at(-1) === 1)?.data[0];
        const age = t.find((o) => o.dims.at(-1) === 100)?.data;
        if (want.has('age') && age) attrs.age = decodeAge(age);
        if (want.has('gender') && gender !== undefined) attrs.gender = decodeGender(gender);
      }));
    }
    if (want.has('emotion')) {
      jobs.push(this.runCrop('emotion', img, crop).then((out) => {
        attrs.emotion = decodeEmotion(Object.values(out)[0]!.data);
      }));
    }
    if (want.has('liveness')) {
      jobs.push(Promise.all([
        this.runCrop('antispoof', img, crop),
        this.runCrop('liveness', img, crop),
      ]).then(([a, l]) => {
        attrs.liveness = { score: decodeLiveness(Object.values(a)[0]!.data[0]!, Object.values(l)[0]!.data[0]!) };
      }));
    }
    if (want.has('pose')) attrs.pose = f.mesh ? poseFromMesh(f.mesh) : poseFromKeypoints(f.keypoints);
    if (want.has('quality')) {
      const q = faceInput(img, f.box, 'quality', this.tensors);
      attrs.quality = faceQuality(q.data, q.dims[1]!, faceSize);
      this.tensors.give(q.data);
    }
    await Promise.all(jobs);
    // A stable key order, whatever finished first.
    const ordered: FaceAttributes = {};
    for (const k of ['age', 'gender', 'emotion', 'pose', 'quality', 'liveness'] as const) if (attrs[k] !== undefined) (ordered as Record<string, unknown>)[k] = attrs[k];
    return ordered;
  }
}

function area(b: Box): number {
  return (b.x2 - b.x1) * (b.y2 - b.y1);
}
