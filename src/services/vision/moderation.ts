import { evenlySpacedFrames } from '../../imaging/decoded.js';
import { classify } from '../../inference/models/object-detector.js';
import { nsfwClasses } from '../../inference/registry.js';
import type { InferenceRuntime } from '../../inference/runtime.js';
import type { ImageContext } from './context.js';
import { defaults, type ModerationRequest } from './params.js';

export type Suggestion = 'Pass' | 'Review' | 'Block';
export type ModerationScores = Record<'drawing' | 'hentai' | 'neutral' | 'porn' | 'sexy', number>;

/** Operator thresholds (IMGSENSE_MODERATION_*), validated by config/env.ts. */
export interface ModerationPolicy {
  /** porn + hentai at or above this: Block. */
  block: number;
  /** porn + hentai + sexy at or above this (and not Block): Review. */
  review: number;
  /** Most frames of an animation judged, evenly spaced, first and last included. */
  maxFrames: number;
}

export interface ModerationResult {
  model: string;
  suggestion: Suggestion;
  scores: ModerationScores;
  /** Animated input only: which frames were judged (0-based) and which one's scores are answered. */
  frames?: { total: number; judged: number[]; worst: number };
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;
const explicit = (s: ModerationScores) => s.porn + s.hentai;
const suggestive = (s: ModerationScores) => s.porn + s.hentai + s.sexy;

export function suggest(s: ModerationScores, policy: Pick<ModerationPolicy, 'block' | 'review'>): Suggestion {
  if (explicit(s) >= policy.block) return 'Block';
  if (suggestive(s) >= policy.review) return 'Review';
  return 'Pass';
}

/** The worse of two frames: more explicit wins, then more suggestive; equal keeps the earlier frame. */
function worse(a: ModerationScores, b: ModerationScores): boolean {
  return explicit(b) > explicit(a) || (explicit(b) === explicit(a) && suggestive(b) > suggestive(a));
}

export async function computeModeration(ctx: ImageContext, runtime: InferenceRuntime, policy: ModerationPolicy, req: ModerationRequest = {}): Promise<ModerationResult> {
  const model = req.model ?? defaults.moderation.model;
  return ctx.once(`moderation:${model}`, async () => {
    const { probe } = ctx;
    const animated = probe.animated && probe.frames > 1;
    const indices = animated ? evenlySpacedFrames(probe.frames, policy.maxFrames) : [0];
    const frames = await ctx.frames(indices);
    const input = runtime.entry(model).input;
    // Frames run concurrently: the runtime batches them into one model run when the model allows it.
    const judged = await Promise.all(frames.map(async (f) => {
      const probs = await ctx.withTensor(f.image, input, (t) => classify(runtime, model, t));
      const scores = Object.fromEntries(nsfwClasses.map((name, i) => [name, round(probs[i] ?? 0)])) as ModerationScores;
      return { index: f.index, scores };
    }));
    let worst = judged[0]!;
    for (const j of judged.slice(1)) if (worse(worst.scores, j.scores)) worst = j;
    return {
      model,
      suggestion: suggest(worst.scores, policy),
      scores: worst.scores,
      ...(animated && { frames: { total: probe.frames, judged: judged.map((j) => j.index), worst: worst.index } }),
    };
  });
}
