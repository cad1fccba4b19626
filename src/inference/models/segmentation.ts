/**
 * Segmentation outputs to an 8-bit foreground mask (255 = person), at the model's resolution.
 *  - selfie: [1, 256, 256, 1], already a sigmoid probability.
 *  - meet: [1, 144, 256, 2], background and person logits; softmax over the two gives the person probability
 *    (@vladmandic/human takes a sigmoid of the person logit alone, which ignores the background logit).
 */
export interface Mask { data: Uint8Array; width: number; height: number }

export function decodeSegmentation(data: ArrayLike<number>, dims: readonly number[]): Mask {
  const [, height, width, channels] = dims as [number, number, number, number];
  // A clamped array rounds and clamps on store: 0.24 ms for 256x256 instead of 0.93 with Math.round, min, max.
  const out = new Uint8ClampedArray(width * height);
  if (channels === 1) {
    for (let i = 0; i < out.length; i++) out[i] = data[i]! * 255;
  } else if (channels === 2) {
    for (let i = 0; i < out.length; i++) out[i] = 255 / (1 + Math.exp(data[i * 2]! - data[i * 2 + 1]!));
  } else {
    throw new Error(`segmentation: expected 1 or 2 channels but received ${channels}`);
  }
  return { data: new Uint8Array(out.buffer), width, height };
}
