import sharp from 'sharp';
import type { ImageProbe } from './probe.js';
import { fromSharpError } from './sharp-errors.js';
import { openStill, orientedSize } from './source.js';

/** A box to draw, in upright image pixels, with an optional caption and points. */
export interface Marking {
  box: { x: number; y: number; width: number; height: number };
  label?: string;
  points?: { x: number; y: number }[];
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The SVG overlay: boxes, captions on a dark band, points as dots; line widths scale with the image. */
export function markingsSvg(width: number, height: number, marks: readonly Marking[]): string {
  const stroke = Math.max(2, Math.round(Math.max(width, height) / 400));
  const font = Math.max(12, Math.round(Math.max(width, height) / 60));
  const parts = marks.map((m) => {
    const { x, y, width: w, height: h } = m.box;
    const label = m.label
      ? `<rect x="${x}" y="${Math.max(0, y - font - 4)}" width="${Math.ceil(m.label.length * font * 0.6) + 6}" height="${font + 4}" fill="#000" fill-opacity="0.6"/>` +
        `<text x="${x + 3}" y="${Math.max(font, y - 4)}" font-family="sans-serif" font-size="${font}" fill="#fff">${escapeXml(m.label)}</text>`
      : '';
    const dots = (m.points ?? []).map((p) => `<circle cx="${p.x}" cy="${p.y}" r="${stroke + 1}" fill="#ff3b30"/>`).join('');
    return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="#34c759" stroke-width="${stroke}"/>${dots}${label}`;
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
