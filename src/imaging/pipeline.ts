import sharp, { type Sharp } from 'sharp';
import exifReader from 'exif-reader';
import type { Limits } from '../config/limits.js';
import { AppError } from '../errors/app-error.js';
import { applyEncoder, resolveOutput, type ResolvedOutput } from './encode.js';
import type { Operation, OperationName, OutputSpec } from './operations.js';
import type { ImageProbe } from './probe.js';
import { fromSharpError } from './sharp-errors.js';
import { openAnimation, openStill, orientedSize } from './source.js';
import { steps } from './steps/index.js';
import type { Step, StepContext } from './steps/step.js';

export interface PipelineRequest {
  probe: ImageProbe;
  operations: readonly Operation[];
  output?: OutputSpec;
  limits: Limits;
  /** Epoch ms after which the request fails with FailedOperation.ProcessingTimeout. */
  deadline: number;
}

export interface PipelineResult {
  data: Buffer;
  format: ResolvedOutput['format'];
  width: number;
  height: number;
  frames: number;
}

interface Raw { data: Buffer; width: number; height: number; channels: 1 | 2 | 3 | 4 }

function stepFor<N extends OperationName>(name: N): Step<N> {
  return steps[name] as Step<N>;
}

function checkDeadline(deadline: number, where: string): void {
  if (Date.now() > deadline) {
    throw new AppError('FailedOperation.ProcessingTimeout', `Processing stopped at ${where}: the request took longer than the server allows`);
  }
}

async function materialise(img: Sharp): Promise<Raw> {
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

const fromRaw = (r: Raw, pageHeight?: number): Sharp =>
  sharp(r.data, { raw: { width: r.width, height: r.height, channels: r.channels, ...(pageHeight && { pageHeight }) } });

/** Runs one operation on a still image whose pixels are in `raw` (or, for the first step, still encoded). */
async function applyOne(img: Sharp, op: Operation, ctx: StepContext): Promise<Sharp> {
  return stepFor(op.op).apply(img, op as never, ctx);
}

const exifDate = (d: Date) => d.toISOString().replace(/-/g, ':').replace('T', ' ').slice(0, 19);

/** The descriptive IFD0 tags an output keeps: who made the picture, with what, when. */
function exifTextTags(exif: Buffer | undefined): Record<string, string> | undefined {
  if (!exif) return undefined;
  try {
    const image = exifReader(exif).Image ?? {};
    const keep = ['Make', 'Model', 'Software', 'DateTime', 'Artist', 'Copyright', 'ImageDescription'];
    const text = (v: unknown) => (typeof v === 'string' ? v : v instanceof Date && !Number.isNaN(v.getTime()) ? exifDate(v) : undefined);
    const tags = Object.fromEntries(keep.flatMap((k) => (text(image[k]) === undefined ? [] : [[k, text(image[k])!]])));
    return Object.keys(tags).length ? tags : undefined;
  } catch {
    return undefined;
  }
}

async function runStill(req: PipelineRequest, out: ResolvedOutput, keepMeta: boolean): Promise<PipelineResult> {
  let img = openStill(req.probe);
  let { width, height } = orientedSize(req.probe);
  for (const [i, op] of req.operations.entries()) {
    if (i > 0) {
      const raw = await materialise(img);
      ({ width, height } = raw);
      img = fromRaw(raw);
    }
    checkDeadline(req.deadline, `operations[${i}]`);
    img = await applyOne(img, op, { width, height, limits: req.limits, where: `operations[${i}]` });
  }
  if (keepMeta) {
    // The colour profile travels with the pixels while they are still the decoded input (one step); after a
    // materialisation they are sRGB already. EXIF keeps its descriptive text only: never GPS, which is
    // personal data, and never a stale orientation.
    if (req.operations.length <= 1 && !req.probe.bmp) img = img.keepIccProfile();
    const tags = exifTextTags(req.probe.exif);
    if (tags) img = img.withExif({ IFD0: tags });
  }
  const { data, info } = await applyEncoder(img, out).toBuffer({ resolveWithObject: true });
  return { data, format: out.format, width: info.width, height: info.height, frames: 1 };
}

async function runAnimated(req: PipelineRequest, out: ResolvedOutput): Promise<PipelineResult> {
  const animation = { loop: req.probe.loop, delay: req.probe.delay };
  const frameCount = req.probe.frames;
  if (req.operations.length === 0) {
    const { data, info } = await applyEncoder(openAnimation(req.probe), out, animation).toBuffer({ resolveWithObject: true });
    return { data, format: out.format, width: info.width, height: req.probe.height, frames: frameCount };
  }
  const all = await materialise(openAnimation(req.probe));
  let frames: Raw[] = [];
  const frameBytes = all.data.length / frameCount;
  for (let f = 0; f < frameCount; f++) {
    frames.push({ ...all, height: req.probe.height, data: all.data.subarray(f * frameBytes, (f + 1) * frameBytes) });
  }
  for (const [i, op] of req.operations.entries()) {
    const next: Raw[] = [];
    for (const frame of frames) {
      checkDeadline(req.deadline, `operations[${i}]`);
      const ctx = { width: frame.width, height: frame.height, limits: req.limits, where: `operations[${i}]` };
      next.push(await materialise(await applyOne(fromRaw(frame), op, ctx)));
    }
    frames = next;
  }
  const first = frames[0]!;
  const joined: Raw = { ...first, height: first.height * frames.length, data: Buffer.concat(frames.map((f) => f.data)) };
  const { data } = await applyEncoder(fromRaw(joined, first.height), out, animation).toBuffer({ resolveWithObject: true });
  return { data, format: out.format, width: first.width, height: first.height, frames: frames.length };
}

/**
 * The processing pipeline: operations run in the order given, each on the result of the one before. Between
 * steps the image is held as raw pixels, because sharp applies the operations of one pipeline in its own fixed
 * order. Animations stay animated (frame by frame) when the output format can hold them and no operation
 * needs a single picture.
 */
export async function runPipeline(req: PipelineRequest): Promise<PipelineResult> {
  const out = resolveOutput(req.probe.format, req.output);
  const keepMeta = !req.operations.some((op) => op.op === 'strip-metadata');
  const animated = req.probe.animated
    && (out.format === 'gif' || out.format === 'webp')
    && req.operations.every((op) => !stepFor(op.op).singleFrame?.(op as never));
  try {
    return animated ? await runAnimated(req, out) : await runStill(req, out, keepMeta);
  } catch (err) {
    throw isSharpFailure(err) ? fromSharpError(err, req.probe.format) : err;
  }
}

/** libvips failures surface as plain Errors thrown from sharp's own files; anything else is our bug. */
function isSharpFailure(err: unknown): boolean {
  return err instanceof Error && !(err instanceof AppError) && /[\\/]sharp[\\/]/.test(err.stack ?? '');
}
