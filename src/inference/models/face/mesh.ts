import type { Box, Point } from './blazeface.js';

/**
 * FaceMesh geometry: the crop the model reads, and its 468 points mapped back to the image. The crop follows
 * @vladmandic/human (the detector box enlarged 1.4x about its centre and made square), because the mesh model
 * was trained on faces framed that way.
 */

export interface Point3 { x: number; y: number; z: number }
export interface Landmark { name: string; x: number; y: number }

export const meshInputSize = 192;
export const cropEnlarge = 1.4;

/** The square, enlarged crop around a detector box. */
export function faceCropBox(box: Box, enlarge = cropEnlarge): Box {
  const cx = (box.x1 + box.x2) / 2;
  const cy = (box.y1 + box.y2) / 2;
  const half = (Math.max(box.x2 - box.x1, box.y2 - box.y1) * enlarge) / 2;
  return { x1: cx - half, y1: cy - half, x2: cx + half, y2: cy + half };
}

/** Mesh output (468 x [x, y, z] in crop-input pixels) to image pixels; z on the same scale as x. */
export function meshToImage(raw: ArrayLike<number>, crop: Box, inputSize = meshInputSize): Point3[] {
  const k = (crop.x2 - crop.x1) / inputSize;
  const ky = (crop.y2 - crop.y1) / inputSize;
  const out: Point3[] = [];
  for (let i = 0; i + 2 < raw.length; i += 3) out.push({ x: crop.x1 + raw[i]! * k, y: crop.y1 + raw[i + 1]! * ky, z: raw[i + 2]! * k });
  return out;
}

/** The tight box around the mesh: forehead to chin, ear to ear. */
export function meshBox(mesh: readonly Point[]): Box {
  let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
  for (const p of mesh) {
    if (p.x < x1) x1 = p.x;
    if (p.y < y1) y1 = p.y;
    if (p.x > x2) x2 = p.x;
    if (p.y > y2) y2 = p.y;
  }
  return { x1, y1, x2, y2 };
}

/**
 * The six named points every face carries, in the subject's own left and right (a right eye is on the image's
 * left in a frontal photo), as MediaPipe orders BlazeFace's keypoints.
 */
export const landmarkNames = ['rightEye', 'leftEye', 'nose', 'mouth', 'rightEar', 'leftEar'] as const;

export function keypointLandmarks(keypoints: readonly Point[]): Landmark[] {
  return landmarkNames.map((name, i) => ({ name, x: keypoints[i]!.x, y: keypoints[i]!.y }));
}

/** FaceMesh indices for the same six points (eye corners averaged, nose tip, inner lips, tragions). */
const meshPoints: Record<(typeof landmarkNames)[number], number[]> = {
  rightEye: [33, 133],
  leftEye: [362, 263],
  nose: [1],
  mouth: [13, 14],
  rightEar: [234],
  leftEar: [454],
};

export function meshLandmarks(mesh: readonly Point[]): Landmark[] {
  return landmarkNames.map((name) => {
    const idx = meshPoints[name];
    const x = idx.reduce((s, i) => s + mesh[i]!.x, 0) / idx.length;
    const y = idx.reduce((s, i) => s + mesh[i]!.y, 0) / idx.length;
    return { name, x, y };
  });
}
