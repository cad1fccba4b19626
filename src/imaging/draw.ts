import type { ImageProbe } from './probe.js';
import { fromSharpError } from './sharp-errors.js';
import { openStill, orientedSize } from './source.js';

/** A box to draw, in upright image pixels (as the API answers them), with an optional caption and points. */
export interface Marking {
  box: { x: number; y: number; width: number; height: number };
  label?: string;
  points?: { x: number; y: number }[];
}

const palette = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#fabed4', '#469990'];
const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Band { x: number; y: number; width: number; height: number }

const overlaps = (a: Band, b: Band) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/**
 * Where a caption band goes: above its box, else inside its top edge, else below it, whichever first stays in
 * the image and clear of the captions already placed (neighbouring faces in a group photo put their captions
 * on one line, where each hid the one before); shifted left rather than cut off at the right edge.
 */
export function placeCaption(box: Marking['box'], width: number, height: number, imageWidth: number, imageHeight: number, placed: readonly Band[]): Band {
  const x = Math.max(0, Math.min(box.x, imageWidth - width));
  const candidates = [box.y - height, box.y, box.y + box.height].map((y) => ({ x, y, width, height }));
  const inside = (b: Band) => b.y >= 0 && b.y + b.height <= imageHeight;
  return candidates.find((b) => inside(b) && placed.every((p) => !overlaps(b, p))) ?? candidates.find(inside) ?? candidates[1]!;
}

/**
 * The SVG overlay: a coloured box per marking, its caption on a band of the same colour, points as dots. Boxes
 * first, captions over all of them, so that no box crosses a caption.
 */
export function markingsSvg(width: number, height: number, marks: readonly Marking[]): string {
  const stroke = Math.max(2, Math.round(Math.max(width, height) / 400));
  const font = Math.max(12, Math.round(Math.max(width, height) / 60));
  const placed: Band[] = [];
  const boxes = marks.map((m, i) => {
    const { x, y, width: w, height: h } = m.box;
    const dots = (m.points ?? []).map((p) => `<circle cx="${p.x}" cy="${p.y}" r="${stroke + 1}" fill="#ff3b30"/>`).join('');
    return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${palette[i % palette.length]!}" stroke-width="${stroke}"/>${dots}`;
  });
  const captions = marks.map((m, i) => {
    if (!m.label) return '';
    const band = placeCaption(m.box, Math.ceil(m.label.length * font * 0.6) + 8, font + 4, width, height, placed);
    placed.push(band);
    return `<rect x="${band.x}" y="${band.y}" width="${band.width}" height="${band.height}" fill="${palette[i % palette.length]!}"/>` +
      `<text x="${band.x + 4}" y="${band.y + font}" font-family="sans-serif" font-size="${font}" fill="#fff">${escapeXml(m.label)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${boxes.join('')}${captions.join('')}</svg>`;
}

/** The upright first frame with the markings composited on top, encoded as `format`. */
export async function drawMarkings(probe: ImageProbe, marks: readonly Marking[], format: 'jpeg' | 'png' | 'webp'): Promise<Buffer> {
  const { width, height } = orientedSize(probe);
  try {
    const img = openStill(probe).flatten({ background: '#ffffff' }).composite([{ input: Buffer.from(markingsSvg(width, height, marks)), left: 0, top: 0 }]);
    return await (format === 'png' ? img.png() : format === 'webp' ? img.webp() : img.jpeg({ quality: 90 })).toBuffer();
  } catch (err) {
    throw fromSharpError(err, probe.format);
  }
}
