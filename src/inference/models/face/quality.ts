/**
 * Face image quality from a grey face crop (values 0..255, square side `side`) and the face's size in the
 * original image. No model: three measurable things a recognition pipeline cares about.
 *  - sharpness: variance of the Laplacian, squashed to 0..1 (a variance of 100 reads as 0.5); blur kills it.
 *  - brightness: mean grey 0..1; both a dark and a blown-out face score low on the combined score.
 *  - size: the face's shorter side in pixels; 112 and above (the usual recognition crop) counts as full.
 */
export interface Quality { score: number; sharpness: number; brightness: number; size: number }

export function laplacianVariance(grey: ArrayLike<number>, side: number): number {
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < side - 1; y++) {
    for (let x = 1; x < side - 1; x++) {
      const i = y * side + x;
      const v = grey[i - 1]! + grey[i + 1]! + grey[i - side]! + grey[i + side]! - 4 * grey[i]!;
      sum += v;
      sumSq += v * v;
      n++;
    }
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

export function faceQuality(grey: ArrayLike<number>, side: number, faceSize: number): Quality {
  const lap = laplacianVariance(grey, side);
  const sharpness = lap / (lap + 100);
  let total = 0;
  for (let i = 0; i < grey.length; i++) total += grey[i]!;
  const brightness = grey.length ? total / grey.length / 255 : 0;
  const exposure = Math.max(0, 1 - Math.abs(brightness - 0.5) * 2);
  const sizeScore = Math.min(1, faceSize / 112);
  const score = 100 * (0.4 * sharpness + 0.3 * Math.sqrt(exposure) + 0.3 * sizeScore);
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return { score: Math.round(score), sharpness: r(sharpness), brightness: r(brightness), size: Math.round(faceSize) };
}
