import type { Point } from './blazeface.js';
import type { Point3 } from './mesh.js';

/**
 * Head pose in degrees: yaw (turn; positive when the face turns toward the image's left, i.e. the subject's own
 * right; checked on faces/groups/bbt2.jpg), pitch (nod, with @vladmandic/human's sign), roll (tilt, positive
 * clockwise in the image).
 */
export interface Pose { yaw: number; pitch: number; roll: number }

// + 0 turns -0 into 0.
const deg = (r: number) => Math.round(((r * 180) / Math.PI) * 10) / 10 + 0;
type V = [number, number, number];
const sub = (a: V, b: V): V => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const cross = (a: V, b: V): V => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (v: V): V => {
  const l = Math.hypot(v[0], v[1], v[2]) || 1;
  return [v[0] / l, v[1] / l, v[2] / l];
};

/**
 * Pose from the mesh, the way @vladmandic/human computes it: a face frame from forehead (10) to chin (152) and
 * ear to ear (234 -> 454), turned into Euler angles.
 */
export function poseFromMesh(mesh: readonly Point3[]): Pose {
  const p = (i: number): V => [mesh[i]!.x, mesh[i]!.y, mesh[i]!.z];
  const yAxis = norm(sub(p(152), p(10)));
  let xAxis = norm(sub(p(454), p(234)));
  const zAxis = norm(cross(xAxis, yAxis));
  xAxis = cross(yAxis, zAxis);
  const [r00, , , r10, r11, r12, r20] = [...xAxis, ...yAxis, ...zAxis];
  let pitch: number, yaw: number, roll: number;
  if (r10 < 1 && r10 > -1) {
    roll = Math.atan2(r10, Math.hypot(r00, r20));
    yaw = Math.atan2(-r20, r00);
    pitch = Math.atan2(-r12, r11);
  } else {
    roll = (Math.sign(r10) * Math.PI) / 2;
    yaw = 0;
    pitch = 0;
  }
  return { yaw: deg(-yaw), pitch: deg(-pitch), roll: deg(-roll) };
}

/**
 * A rougher pose from BlazeFace's six keypoints when no mesh was run: roll from the eye line, yaw from where the
 * nose sits between the ears, pitch from where it sits between the eye line and the mouth (0.5 of the way is
 * level for an average face; this is an estimate, good to about 15 degrees).
 */
export function poseFromKeypoints(k: readonly Point[]): Pose {
  const [re, le, nose, mouth, rear, lear] = k as [Point, Point, Point, Point, Point, Point];
  const roll = Math.atan2(le.y - re.y, le.x - re.x);
  const earSpan = lear.x - rear.x;
  const yawRatio = earSpan !== 0 ? (nose.x - (rear.x + lear.x) / 2) / (earSpan / 2) : 0;
  const eyesY = (re.y + le.y) / 2;
  const span = mouth.y - eyesY;
  const pitchRatio = span !== 0 ? ((nose.y - eyesY) / span - 0.5) * 2 : 0;
  const clamp = (v: number) => Math.max(-1, Math.min(1, v));
  // The nose toward the image's right is a face turned that way: negative yaw, as the mesh reports it.
  return { yaw: deg(-Math.asin(clamp(yawRatio))), pitch: deg(-Math.asin(clamp(pitchRatio))), roll: deg(roll) };
}
