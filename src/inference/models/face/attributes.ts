import { emotions } from '../../registry.js';

/** Decoding of the face attribute models' outputs; the crops and ranges they take are in ./face-inputs.ts. */

export interface Emotion { value: string; scores: Record<string, number> }
export interface Gender { value: 'male' | 'female'; score: number }

const round = (v: number, places = 3) => Math.round(v * 10 ** places) / 10 ** places;

/** oarriaga's 7-class softmax, in its label order. */
export function decodeEmotion(probs: ArrayLike<number>): Emotion {
  const scores: Record<string, number> = {};
  let best = 0;
  emotions.forEach((name, i) => {
    scores[name] = round(probs[i] ?? 0);
    if ((probs[i] ?? 0) > (probs[best] ?? 0)) best = i;
  });
  return { value: emotions[best]!, scores };
}

/** FaceRes gender: one sigmoid, above 0.5 male; the score is the distance from 0.5 stretched to 0..1. */
export function decodeGender(sigmoid: number): Gender {
  return { value: sigmoid > 0.5 ? 'male' : 'female', score: round(Math.min(1, Math.abs(sigmoid - 0.5) * 2), 2) };
}

/**
 * FaceRes age: a softmax over 100 bins of one year. The argmax bin, nudged toward its stronger neighbour, as
 * @vladmandic/human reads it.
 */
export function decodeAge(bins: ArrayLike<number>): number {
  let arg = 0;
  for (let i = 1; i < bins.length; i++) if (bins[i]! > bins[arg]!) arg = i;
  const before = bins[arg - 1] ?? 0;
  const after = bins[arg + 1] ?? 0;
  const age = before > after ? 10 * arg - 100 * before : 10 * arg + 100 * after;
  return Math.max(0, Math.round(age) / 10);
}

/** Liveness 0..1: the mean of the antispoof model's "real" score and the liveness model's first output. */
export function decodeLiveness(antispoof: number, liveness: number): number {
  const clamp = (v: number) => Math.max(0, Math.min(1, Number.isFinite(v) ? v : 0));
  return round((clamp(antispoof) + clamp(liveness)) / 2, 2);
}
