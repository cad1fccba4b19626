/**
 * Whether an embedded ICC profile describes sRGB, read from its header and tags. libvips colour-manages every
 * image with a profile into sRGB; for an sRGB profile that transform changes no pixel (checked on the fixtures)
 * yet costs as much as the JPEG decode itself (6-10 ms for a 0.4-megapixel photo), and most camera and web
 * JPEGs embed exactly that profile. Linear-light profiles with sRGB primaries are not sRGB here.
 */
export function isSrgbProfile(icc: Buffer | undefined): boolean {
  if (!icc || icc.length < 132 || icc.toString('latin1', 16, 20) !== 'RGB ') return false;
  const tags = readTags(icc);
  const desc = tags.get('desc');
  const text = desc ? describe(icc, desc.offset, desc.size) : '';
  if (!/sRGB/.test(text) || /linear|g10|gamma ?1(\.0)?\b/i.test(text)) return false;
  const trc = tags.get('rTRC');
  return trc !== undefined && !isLinearCurve(icc, trc.offset, trc.size);
}

function readTags(icc: Buffer): Map<string, { offset: number; size: number }> {
  const tags = new Map<string, { offset: number; size: number }>();
  const count = icc.readUInt32BE(128);
  for (let i = 0; i < count && 132 + i * 12 + 12 <= icc.length; i++) {
    const at = 132 + i * 12;
    const offset = icc.readUInt32BE(at + 4);
    const size = icc.readUInt32BE(at + 8);
    if (offset + size <= icc.length) tags.set(icc.toString('latin1', at, at + 4), { offset, size });
  }
  return tags;
}

/** The profile's description: ICC v2 'desc' (ASCII) or v4 'mluc' (UTF-16BE, first record). */
function describe(icc: Buffer, offset: number, size: number): string {
  const type = icc.toString('latin1', offset, offset + 4);
  if (type === 'desc' && size >= 12) {
    const n = icc.readUInt32BE(offset + 8);
    return icc.toString('latin1', offset + 12, Math.min(offset + size, offset + 12 + n)).replace(/\0+$/, '');
  }
  if (type === 'mluc' && size >= 28) {
    const length = icc.readUInt32BE(offset + 20);
    const start = offset + icc.readUInt32BE(offset + 24);
    const end = Math.min(offset + size, start + (length & ~1));
    return Buffer.from(icc.subarray(start, end)).swap16().toString('utf16le');
  }
  return '';
}

/** A 'curv' of no entries (identity) or a single gamma of 1.0; a 'para' of gamma 1.0 without offsets. */
function isLinearCurve(icc: Buffer, offset: number, size: number): boolean {
  const type = icc.toString('latin1', offset, offset + 4);
  if (type === 'curv' && size >= 12) {
    const n = icc.readUInt32BE(offset + 8);
    return n === 0 || (n === 1 && size >= 14 && icc.readUInt16BE(offset + 12) === 0x0100);
  }
  if (type === 'para' && size >= 16) return icc.readUInt16BE(offset + 8) === 0 && icc.readInt32BE(offset + 12) === 0x10000;
  return false;
}
