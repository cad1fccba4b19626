import { createHash, createHmac } from 'node:crypto';

/**
 * Tencent Cloud's TC3-HMAC-SHA256 request signing (API 3.0), as published in its "Signature v3" document:
 * canonical request -> string to sign -> signature with a key derived from the secret key, the UTC date and
 * the service. Pure functions; the HTTP layer supplies the request parts.
 */
export const tc3Algorithm = 'TC3-HMAC-SHA256';

export interface Tc3Authorization {
  secretId: string;
  /** YYYY-MM-DD, the UTC date of X-TC-Timestamp. */
  date: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** undefined when the header is not a well-formed TC3 Authorization. */
export function parseTc3Authorization(header: string): Tc3Authorization | undefined {
  const m = /^TC3-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{4}-\d{2}-\d{2})\/([^/\s,]+)\/tc3_request\s*,\s*SignedHeaders=([a-z0-9;_-]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/i.exec(header.trim());
  if (!m) return undefined;
  return { secretId: m[1]!, date: m[2]!, service: m[3]!, signedHeaders: m[4]!.toLowerCase().split(';'), signature: m[5]!.toLowerCase() };
}

export interface CanonicalParts {
  method: string;
  /** The path as sent, "/" for the Tencent-style endpoint. */
  path: string;
  /** The query string as sent, without "?". */
  query: string;
  /** Lower-cased header names to values, for every signed header. */
  headers: Record<string, string>;
  signedHeaders: string[];
  payloadHash: string;
}

export function canonicalRequest(p: CanonicalParts): string {
  const names = [...p.signedHeaders].sort();
  const headers = names.map((n) => `${n}:${(p.headers[n] ?? '').trim().toLowerCase()}\n`).join('');
  return [p.method.toUpperCase(), p.path, p.query, headers, names.join(';'), p.payloadHash].join('\n');
}

export function stringToSign(timestamp: number | string, date: string, service: string, canonical: string): string {
  return [tc3Algorithm, String(timestamp), `${date}/${service}/tc3_request`, sha256Hex(canonical)].join('\n');
}

export function tc3Signature(secretKey: string, date: string, service: string, toSign: string): string {
  const kDate = createHmac('sha256', `TC3${secretKey}`).update(date).digest();
  const kService = createHmac('sha256', kDate).update(service).digest();
  const kSigning = createHmac('sha256', kService).update('tc3_request').digest();
  return createHmac('sha256', kSigning).update(toSign).digest('hex');
}

/** The UTC date of a Unix timestamp in seconds, as the credential scope spells it. */
export function utcDate(timestampSeconds: number): string {
  return new Date(timestampSeconds * 1000).toISOString().slice(0, 10);
}
