import exifReader from 'exif-reader';
import sharp from 'sharp';
import { fromSharpError } from './sharp-errors.js';
import type { ImageProbe } from './probe.js';
import { openStill, orientedSize } from './source.js';

export interface ImageInfo {
  format: string;
  width: number;
  height: number;
  /** Size once EXIF orientation is applied: the size every coordinate in the API refers to. */
  orientedWidth: number;
  orientedHeight: number;
  orientation: number;
  channels: number;
  hasAlpha: boolean;
  bitDepth: number;
  frames: number;
  animated: boolean;
  colourSpace: string;
  isPalette: boolean;
  isProgressive: boolean;
  hasIccProfile: boolean;
  bytes: number;
  exif?: ExifSummary;
  dominantColour: string;
}

export interface ExifSummary {
  make?: string;
  model?: string;
  software?: string;
  takenAt?: string;
  exposureTime?: number;
  fNumber?: number;
  iso?: number;
  focalLength?: number;
  gps?: { latitude: number; longitude: number; altitude?: number };
}

const depthBits: Record<string, number> = { uchar: 8, char: 8, ushort: 16, short: 16, uint: 32, int: 32, float: 32, double: 64 };

function dms(values: unknown, ref: unknown): number | undefined {
  if (!Array.isArray(values) || values.length < 3) return undefined;
  const [d, m, s] = values.map(Number) as [number, number, number];
  const v = d + m / 60 + s / 3600;
  return Number.isFinite(v) ? (ref === 'S' || ref === 'W' ? -v : v) : undefined;
}

function iso(date: unknown): string | undefined {
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined;
}

/** A short, safe EXIF summary. GPS is personal data: it is only included when the caller asks for it. */
export function summariseExif(exif: Buffer | undefined, includeGps: boolean): ExifSummary | undefined {
  if (!exif) return undefined;
  let parsed: ReturnType<typeof exifReader>;
  try {
    parsed = exifReader(exif);
  } catch {
    return undefined;
  }
  const img = parsed.Image ?? {};
  const photo = parsed.Photo ?? {};
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.replace(/\0+$/, '').trim() : undefined);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const summary: ExifSummary = {
    make: str(img.Make),
    model: str(img.Model),
    software: str(img.Software),
    takenAt: iso(photo.DateTimeOriginal) ?? iso(img.DateTime),
    exposureTime: num(photo.ExposureTime),
    fNumber: num(photo.FNumber),
    iso: num(Array.isArray(photo.ISOSpeedRatings) ? photo.ISOSpeedRatings[0] : photo.ISOSpeedRatings),
    focalLength: num(photo.FocalLength),
  };
  const gps = parsed.GPSInfo;
  if (includeGps && gps) {
    const latitude = dms(gps.GPSLatitude, gps.GPSLatitudeRef);
    const longitude = dms(gps.GPSLongitude, gps.GPSLongitudeRef);
    if (latitude !== undefined && longitude !== undefined) {
      summary.gps = { latitude, longitude, ...(num(gps.GPSAltitude) !== undefined && { altitude: num(gps.GPSAltitude)! }) };
    }
  }
  const entries = Object.entries(summary).filter(([, v]) => v !== undefined);
  return entries.length ? (Object.fromEntries(entries) as ExifSummary) : undefined;
}

const hex = (n: number) => Math.round(n).toString(16).padStart(2, '0');

export async function describeImage(probe: ImageProbe, opts: { includeGps: boolean }): Promise<ImageInfo> {
  let dominant: { r: number; g: number; b: number };
  try {
    // A small thumbnail is enough for the dominant colour and keeps /info cheap on large photos.
    const thumb = await openStill(probe).resize(64, 64, { fit: 'inside' }).toColourspace('srgb').png().toBuffer();
    ({ dominant } = await sharp(thumb).stats());
  } catch (err) {
    throw fromSharpError(err, probe.format);
  }
  const oriented = orientedSize(probe);
  const exif = summariseExif(probe.exif, opts.includeGps);
  return {
    format: probe.format,
    width: probe.width,
    height: probe.height,
    orientedWidth: oriented.width,
    orientedHeight: oriented.height,
    orientation: probe.orientation,
    channels: probe.channels,
    hasAlpha: probe.hasAlpha,
    bitDepth: probe.isPalette && probe.bitsPerSample ? probe.bitsPerSample : depthBits[probe.depth] ?? 8,
    frames: probe.frames,
    animated: probe.animated,
    colourSpace: probe.space,
    isPalette: probe.isPalette,
    isProgressive: probe.isProgressive,
    hasIccProfile: probe.hasProfile,
    bytes: probe.bytes.length,
    ...(exif && { exif }),
    dominantColour: `#${hex(dominant.r)}${hex(dominant.g)}${hex(dominant.b)}`,
  };
}
