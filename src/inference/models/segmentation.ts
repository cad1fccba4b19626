/**
 * Segmentation outputs to an 8-bit foreground mask (255 = person), at the model's resolution.
 *  - selfie: [1, 256, 256, 1], already a sigmoid probability.
 *  - meet: [1, 144, 256, 2], background and person logits; softmax over the two gives the person probability
 *    (@vladmandic/human takes a sigmoid of the person logit alone, which ignores the background logit).
 */
export interface Mask { data: Uint8Array; width: number; height: number }

const to8 = (p: number) => Math.max(0, Math.min(255, Math.round(p * 255)));

export function decodeSegmentation(data: ArrayLike<number>, dims: readonly number[]): Mask {
  const [, height, width, channels] = dims as [number, number, number, number];
  const out = new Uint8Array(width * height);
  if (channels === 1) {
    for (let i = 0; i < out.length; i++) out[i] = to8(data[i]!);
  } else if (channels === 2) {
    for (let i = 0; i < out.length; i++) out[i] = to8(1 / (1 + Math.exp(data[i * 2]! - data[i * 2 + 1]!)));
  } else {
    throw new Error(`segmentation: expected 1 or 2 channels but received ${channels}`);
  }
  return { data: out, width, height };
}
