import sharp from 'sharp';
import { AppError, invalidValue } from '../../errors/app-error.js';
import { decodeBase64Image } from '../base64.js';
import { probeImage } from '../probe.js';
import { openStill } from '../source.js';
import { defineStep, type StepContext } from './step.js';

interface Mark { data: Buffer; width: number; height: number }

function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function textMark(text: string, colour: string, targetWidth: number, maxHeight: number): Promise<Mark> {
  // Pango sizes text by dpi; giving it a box makes it pick the largest dpi that fits (autofit).
  const { data, info } = await sharp({
    text: {
      text: `<span foreground="${colour}">${escapeMarkup(text)}</span>`,
      rgba: true,
      width: Math.max(8, targetWidth),
      height: Math.max(8, maxHeight),
      wrap: 'none',
    },
  }).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

async function imageMark(b64: string, ctx: StepContext, targetWidth: number, maxHeight: number): Promise<Mark> {
  const bytes = decodeBase64Image(b64, `${ctx.where}.image`, ctx.limits.maxImageBytes);
  const probe = await probeImage(bytes, ctx.limits);
  const { data, info } = await openStill(probe)
    .resize({ width: Math.max(1, targetWidth), height: Math.max(1, maxHeight), fit: 'inside' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function place(position: string, W: number, H: number, w: number, h: number, margin: number): { left: number; top: number } {
  const left = position.endsWith('west') ? margin : position.endsWith('east') ? W - w - margin : Math.round((W - w) / 2);
  const top = position.startsWith('north') ? margin : position.startsWith('south') ? H - h - margin : Math.round((H - h) / 2);
  return { left: Math.max(0, left), top: Math.max(0, top) };
}

export const watermark = defineStep({
  name: 'watermark',
  async apply(img, op, ctx) {
    if ((op.text === undefined) === (op.image === undefined)) {
      throw invalidValue(ctx.where, 'exactly one of text or image', op.text !== undefined ? 'both' : 'neither');
    }
    const margin = Math.min(op.margin ?? 16, Math.floor(Math.min(ctx.width, ctx.height) / 4));
    const room = { w: ctx.width - 2 * margin, h: ctx.height - 2 * margin };
    const targetWidth = Math.min(room.w, Math.round(ctx.width * (op.size ?? 0.25)));
    const maxHeight = Math.max(1, Math.round(room.h / 2));
    const mark = op.text !== undefined
      ? await textMark(op.text, op.colour ?? '#ffffff', targetWidth, Math.min(maxHeight, Math.max(8, Math.round(targetWidth / 3))))
      : await imageMark(op.image!, ctx, targetWidth, maxHeight);
    if (mark.width > ctx.width || mark.height > ctx.height || mark.width === 0) {
      throw new AppError('UnsupportedOperation', `Expected an image large enough for a watermark for ${ctx.where} but received ${ctx.width}x${ctx.height}`);
    }
    const opacity = op.opacity ?? 0.5;
    for (let i = 3; i < mark.data.length; i += 4) mark.data[i] = Math.round(mark.data[i]! * opacity);
    const { left, top } = place(op.position ?? 'southeast', ctx.width, ctx.height, mark.width, mark.height, margin);
    return img.composite([{ input: mark.data, raw: { width: mark.width, height: mark.height, channels: 4 }, left, top }]);
  },
});
