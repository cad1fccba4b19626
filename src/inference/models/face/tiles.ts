import type { Box } from './blazeface.js';

/**
 * Where the detector looks. BlazeFace takes a 256x256 square; a whole landscape photo letterboxed into it leaves
 * a group photo's faces at 15-25 input pixels. So the whole image runs once (letterboxed, for faces of any
 * size) and, when the image is clearly not square, again as squares of its shorter side overlapping by half,
 * which gives every face the resolution it would have in a square photo. A second whole pass, zoomed out to
 * 1.5x the long side, finds faces that fill the frame (a tight face crop), which the short-range model misses;
 * it runs only when the other passes found no face (see FaceService).
 * Measured on the fixtures (docs/models.md): the zoomed pass finds 2 of 30 tight identity crops otherwise
 * missed; the squares raise small faces' scores; smaller tiles cut faces in half and the halves pass as
 * faces, so none are used.
 */
export interface Square { x: number; y: number; size: number; whole: boolean }

/** The whole image zoomed out (1.5x its long side, centred), for faces that fill the frame. */
export function zoomedOutSquare(width: number, height: number, factor = 1.5): Square {
  const size = Math.max(width, height) * factor;
  return { x: (width - size) / 2, y: (height - size) / 2, size, whole: true };
}

export function detectorSquares(width: number, height: number, minAspect = 1.3): Square[] {
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  const squares: Square[] = [{ x: (width - long) / 2, y: (height - long) / 2, size: long, whole: true }];
  if (long / short < minAspect) return squares;
  const step = short / 2;
  const n = Math.ceil((long - short) / step) + 1;
  for (let i = 0; i < n; i++) {
    const offset = n === 1 ? 0 : (i * (long - short)) / (n - 1);
    squares.push(width >= height ? { x: offset, y: 0, size: short, whole: false } : { x: 0, y: offset, size: short, whole: false });
  }
  return squares;
}

/**
 * A face cut by a square's inner edge is a half face; the neighbouring square (or the whole image) sees it
 * whole. Edges that are the image's own edges do not count.
 */
export function touchesInnerEdge(box: Box, sq: Square, width: number, height: number, margin = 0.01): boolean {
  if (sq.whole) return false;
  const m = sq.size * margin;
  const left = sq.x > 0 && box.x1 <= sq.x + m;
  const right = sq.x + sq.size < width && box.x2 >= sq.x + sq.size - m;
  const top = sq.y > 0 && box.y1 <= sq.y + m;
  const bottom = sq.y + sq.size < height && box.y2 >= sq.y + sq.size - m;
  return left || right || top || bottom;
}
