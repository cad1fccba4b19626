import type { Sharp } from 'sharp';
import { invalidValue } from '../errors/app-error.js';
import type { OutputFormat, OutputSpec } from './operations.js';
import type { DecodableFormat } from './sniff.js';

/** A complete output descriptor: every option decided, every inapplicable one refused before any pixel work. */
export interface ResolvedOutput {
  format: OutputFormat;
  quality: number | undefined;
  effort: number | undefined;
  progressive: boolean;
  lossless: boolean;
}

const applies: Record<keyof Omit<OutputSpec, 'format'>, readonly OutputFormat[]> = {
  quality: ['jpeg', 'webp', 'avif', 'tiff'],
  effort: ['webp', 'avif', 'png', 'gif'],
  progressive: ['jpeg', 'png', 'gif'],
  lossless: ['webp', 'avif'],
};

const effortRange: Partial<Record<OutputFormat, [number, number]>> = {
  webp: [0, 6], avif: [0, 9], png: [1, 10], gif: [1, 10],
};

export const contentTypes: Record<OutputFormat, string> = {
  jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif', gif: 'image/gif', tiff: 'image/tiff',
};

export function resolveOutput(input: DecodableFormat, spec: OutputSpec = {}): ResolvedOutput {
  const format: OutputFormat = spec.format ?? (input === 'bmp' ? 'png' : input);
  for (const key of Object.keys(applies) as (keyof typeof applies)[]) {
    if (spec[key] !== undefined && !applies[key].includes(format)) {
      throw invalidValue(`output.${key}`, `no ${key} for ${format} output (it applies to ${applies[key].join(', ')})`, spec[key]);
    }
  }
  const range = effortRange[format];
  if (spec.effort !== undefined && range && (spec.effort < range[0] || spec.effort > range[1])) {
    throw invalidValue('output.effort', `integer between ${range[0]} and ${range[1]} for ${format}`, spec.effort);
  }
  return {
    format,
    quality: spec.quality,
    effort: spec.effort,
    progressive: spec.progressive ?? false,
    lossless: spec.lossless ?? false,
  };
}

export interface AnimationInfo { loop: number | undefined; delay: number[] | undefined }

export function applyEncoder(img: Sharp, out: ResolvedOutput, animation?: AnimationInfo): Sharp {
  const anim = animation ? { loop: animation.loop ?? 0, ...(animation.delay && { delay: animation.delay }) } : {};
  switch (out.format) {
    case 'jpeg':
      return img.jpeg({ quality: out.quality ?? 80, progressive: out.progressive });
    case 'png':
      return img.png({ progressive: out.progressive, compressionLevel: Math.min(9, out.effort ?? 6) });
    case 'webp':
      return img.webp({ quality: out.quality ?? 80, lossless: out.lossless, effort: out.effort ?? 4, ...anim });
    case 'avif':
      return img.avif({ quality: out.quality ?? 50, lossless: out.lossless, effort: out.effort ?? 4 });
    case 'gif':
      return img.gif({ effort: out.effort ?? 7, progressive: out.progressive, ...anim });
    case 'tiff':
      return out.quality !== undefined
        ? img.tiff({ compression: 'jpeg', quality: out.quality })
        : img.tiff({ compression: 'lzw' });
  }
}
