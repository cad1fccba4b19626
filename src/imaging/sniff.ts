/**
 * Format detection from magic bytes only. A file name or a Content-Type header is never trusted.
 */
export type SniffedFormat =
  | 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'bmp' | 'avif' | 'heif'
  | 'jp2' | 'svg' | 'pdf' | 'ico' | 'psd' | 'jxl';

/** Formats this server decodes. HEIF is listed separately because only its AV1 flavour (AVIF) decodes here. */
export const decodableFormats = ['jpeg', 'png', 'gif', 'webp', 'tiff', 'bmp', 'avif'] as const;
export type DecodableFormat = (typeof decodableFormats)[number];

function ascii(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, Math.max(0, Math.min(end, buf.length) - start)).toString('latin1');
}

function startsWith(buf: Uint8Array, bytes: readonly number[], offset = 0): boolean {
  if (buf.length < offset + bytes.length) return false;
  return bytes.every((b, i) => buf[offset + i] === b);
}

/** ISO-BMFF (HEIF family): the ftyp box names the brands; AVIF brands decode, HEVC ones do not. */
function sniffFtyp(buf: Uint8Array): SniffedFormat | undefined {
  if (buf.length < 16 || ascii(buf, 4, 8) !== 'ftyp') return undefined;
  const size = Math.min((buf as Buffer).readUInt32BE(0), buf.length, 256);
  const brands: string[] = [ascii(buf, 8, 12)];
  for (let o = 16; o + 4 <= size; o += 4) brands.push(ascii(buf, o, o + 4));
  if (brands.some((b) => b === 'avif' || b === 'avis')) return 'avif';
  if (brands.some((b) => ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(b))) return 'heif';
  if (brands.some((b) => b === 'jp2 ')) return 'jp2';
  return undefined;
}

export function sniffFormat(input: Uint8Array): SniffedFormat | undefined {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (startsWith(buf, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(buf, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(buf, 0, 6) === 'GIF87a' || ascii(buf, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(buf, 0, 4) === 'RIFF' && ascii(buf, 8, 12) === 'WEBP') return 'webp';
  if (startsWith(buf, [0x49, 0x49, 0x2a, 0x00]) || startsWith(buf, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(buf, [0x49, 0x49, 0x2b, 0x00]) || startsWith(buf, [0x4d, 0x4d, 0x00, 0x2b])) return 'tiff';
  if (ascii(buf, 0, 2) === 'BM' && buf.length >= 26) return 'bmp';
  const ftyp = sniffFtyp(buf);
  if (ftyp) return ftyp;
  if (startsWith(buf, [0xff, 0x4f, 0xff, 0x51])) return 'jp2';
  if (startsWith(buf, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20])) return 'jp2';
  if (startsWith(buf, [0xff, 0x0a]) || startsWith(buf, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) return 'jxl';
  if (ascii(buf, 0, 5) === '%PDF-') return 'pdf';
  if (ascii(buf, 0, 4) === '8BPS') return 'psd';
  if (startsWith(buf, [0x00, 0x00, 0x01, 0x00]) && buf.length > 6) return 'ico';
  const head = ascii(buf, 0, 512).replace(/^\uFEFF/, '').trimStart();
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(head)) return 'svg';
  return undefined;
}
