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

/** The SVG overlay: a coloured box per marking, its caption on a band of the same colour, points as dots. */
export function markingsSvg(width: number, height: number, marks: readonly Marking[]): string {
  const stroke = Math.max(2, Math.round(Math.max(width, height) / 400));
  const font = Math.max(12, Math.round(Math.max(width, height) / 60));
  const parts = marks.map((m, i) => {
    const colour = palette[i % palette.length]!;
    const { x, y, width: w, height: h } = m.box;
    const textY = y > font + 4 ? y - 4 : y + font + 2;
    const label = m.label
      ? `<rect x="${x}" y="${textY - font}" width="${Math.ceil(m.label.length * font * 0.6) + 8}" height="${font + 4}" fill="${colour}"/>` +
        `<text x="${x + 4}" y="${textY}" font-family="sans-serif" font-size="${font}" fill="#fff">${escapeXml(m.label)}</text>`
      : '';
    const dots = (m.points ?? []).map((p) => `<circle cx="${p.x}" cy="${p.y}" r="${stroke + 1}" fill="#ff3b30"/>`).join('');
    return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>${dots}${label}`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
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
