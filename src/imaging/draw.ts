import type { ImageProbe } from './probe.js';
import { fromSharpError } from './sharp-errors.js';
import { openStill, orientedSize } from './source.js';

export interface DrawnBox {
  label: string;
  box: { x: number; y: number; width: number; height: number };
}

const palette = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#fabed4', '#469990'];
const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The SVG overlay: one rectangle and one caption per box, stroke and font scaled to the image. */
export function overlaySvg(width: number, height: number, boxes: readonly DrawnBox[]): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 250));
  const font = Math.max(12, Math.round(Math.min(width, height) / 40));
  const shapes = boxes.map((b, i) => {
    const colour = palette[i % palette.length]!;
    const { x, y, width: w, height: h } = b.box;
    const textY = y > font + 4 ? y - 4 : y + font + 2;
    const textW = Math.round(b.label.length * font * 0.6) + 8;
    const bgY = textY - font;
    return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>`
      + `<rect x="${x}" y="${bgY}" width="${textW}" height="${font + 4}" fill="${colour}"/>`
      + `<text x="${x + 4}" y="${textY}" font-family="sans-serif" font-size="${font}" fill="#ffffff">${escapeXml(b.label)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
}

/**
 * The upright image with boxes and captions drawn on it, encoded as the file extension asks (jpg, png, webp;
 * anything else is JPEG). Coordinates are those the API answers: pixels of the image after EXIF orientation.
 */
export async function drawBoxes(probe: ImageProbe, boxes: readonly DrawnBox[], format: 'jpeg' | 'png' | 'webp'): Promise<Buffer> {
  const { width, height } = orientedSize(probe);
  try {
    return await openStill(probe)
      .composite([{ input: Buffer.from(overlaySvg(width, height, boxes)), left: 0, top: 0 }])
      .toFormat(format)
      .toBuffer();
  } catch (err) {
    throw fromSharpError(err, probe.format);
  }
}
